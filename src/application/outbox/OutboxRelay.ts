import type { EventStore, RecordedEvent } from '../ports/EventStore';
import type { Logger } from '../ports/Logger';
import type { MessagePublisher } from '../ports/MessagePublisher';
import type { AggregateRepository } from '../shared/AggregateRepository';
import type { BackoffOptions } from '../shared/Backoff';
import { SubscriptionWorker, type SubscriptionWorkerStatus } from '../shared/SubscriptionWorker';
import { toOrderMessage } from './orderMessages';

/** Streams the relay reads: orders only. */
export const RELAY_STREAM_PREFIXES = ['order-'] as const;

/** The relay's checkpoint lives in the event store, so any instance sharing the store resumes from it. */
export const RELAY_CHECKPOINT_STREAM = 'checkpoints-outbox_relay';

export type OutboxRelayOptions = {
  readonly maxBatchSize: number;
  readonly retry: BackoffOptions;
};

/**
 * Turns order events into broker messages. The event log is the outbox: the relay reads it
 * through its own subscription, publishes a batch, waits for the broker's confirms, and only
 * then appends its checkpoint. A crash or outage between publish and checkpoint republishes
 * that batch with the same message ids (at-least-once); nothing is ever skipped.
 */
export class OutboxRelay {
  private readonly worker: SubscriptionWorker;
  private checkpointRevision: bigint | undefined;
  private checkpointPosition: bigint | undefined;
  private published = 0;

  constructor(
    private readonly eventStore: EventStore,
    private readonly publisher: MessagePublisher,
    private readonly repository: AggregateRepository,
    private readonly logger: Logger,
    options: OutboxRelayOptions,
  ) {
    this.worker = new SubscriptionWorker(
      eventStore,
      {
        name: 'outbox-relay',
        streamPrefixes: RELAY_STREAM_PREFIXES,
        maxBatchSize: options.maxBatchSize,
        retry: options.retry,
        loadCheckpoint: () => this.loadCheckpoint(),
        handleBatch: (events) => this.relay(events),
      },
      logger,
    );
  }

  start(): void {
    this.worker.start();
  }

  /** Stops after the batch being confirmed, if any, has stored its checkpoint. */
  stop(): Promise<void> {
    return this.worker.stop();
  }

  status(): SubscriptionWorkerStatus & { checkpoint: bigint | undefined; messagesPublished: number } {
    return { ...this.worker.currentStatus(), checkpoint: this.checkpointPosition, messagesPublished: this.published };
  }

  /** Reads the last stored checkpoint; also the expected revision for the next one. */
  async loadCheckpoint(): Promise<bigint | undefined> {
    const [last] = await this.eventStore.readStream(RELAY_CHECKPOINT_STREAM, { direction: 'backwards', maxCount: 1 });
    this.checkpointRevision = last?.revision;
    this.checkpointPosition = last === undefined ? undefined : BigInt(String(last.data.position));
    return this.checkpointPosition;
  }

  private async relay(events: readonly RecordedEvent[]): Promise<void> {
    const last = events.at(-1);
    if (last === undefined) return;

    const messages = events.flatMap((event) => toOrderMessage(event) ?? []);
    if (messages.length > 0) {
      await this.publisher.publishConfirmed(messages);
      this.published += messages.length;
      this.logger.debug({ count: messages.length, lastEventId: last.id }, 'messages confirmed');
    }

    // Appended with the revision read, so a second relay on the same store fails here instead
    // of moving the checkpoint behind the first one's back.
    const checkpoint = this.repository.newEvent(
      'RelayCheckpointStored',
      { position: last.position.toString() },
      { correlationId: 'outbox-relay', causationId: last.id },
    );
    const appended = await this.eventStore.appendToStream(
      RELAY_CHECKPOINT_STREAM,
      [checkpoint],
      this.checkpointRevision ?? 'no_stream',
    );
    this.checkpointRevision = appended.nextExpectedRevision;
    this.checkpointPosition = last.position;
  }
}
