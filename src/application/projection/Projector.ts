import { decodeEvent } from '../events/eventCodec';
import type { EventStore, RecordedEvent } from '../ports/EventStore';
import type { Logger } from '../ports/Logger';
import type { ReadModelStore, ViewChange, ViewRecord } from '../ports/ReadModelStore';
import type { BackoffOptions } from '../shared/Backoff';
import { SubscriptionWorker, type SubscriptionWorkerStatus } from '../shared/SubscriptionWorker';
import { PROJECTED_STREAM_PREFIXES, projectEvent, projectionTarget } from './projections';
import type { ProjectionProgress } from './ProjectionProgress';

export type ProjectorOptions = {
  readonly maxBatchSize: number;
  readonly retry: BackoffOptions;
};

export type CatchUpOptions = {
  readonly onProgress?: (eventsRead: number, position: bigint) => void;
  readonly signal?: AbortSignal;
};

/** Events read per page while catching up with `readAll` at start. */
const CATCH_UP_PAGE_SIZE = 2000;

/**
 * Builds the read models from the event log. At start it catches up by reading the log in
 * pages (so it can tell when it has reached the head), then follows a live subscription.
 * Each batch is one `applyChanges` call that also stores the checkpoint.
 */
export class Projector {
  private readonly worker: SubscriptionWorker;

  constructor(
    private readonly eventStore: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly progress: ProjectionProgress,
    private readonly logger: Logger,
    options: ProjectorOptions,
  ) {
    this.worker = new SubscriptionWorker(
      eventStore,
      {
        name: 'projector',
        streamPrefixes: PROJECTED_STREAM_PREFIXES,
        maxBatchSize: options.maxBatchSize,
        retry: options.retry,
        loadCheckpoint: () => this.readModels.getCheckpoint(),
        handleBatch: (events) => this.applyBatch(events, events.at(-1)?.position),
      },
      logger,
    );
  }

  /**
   * Applies every event up to the head of the log as it was when called; returns how many were
   * read. An aborted `signal` ends the catch-up after the page being applied.
   */
  async catchUp(options: CatchUpOptions = {}): Promise<number> {
    const { onProgress, signal } = options;
    let after = await this.readModels.getCheckpoint();
    if (after !== undefined) this.progress.advance(after);
    let eventsRead = 0;

    for (;;) {
      const page = await this.eventStore.readAll({ after, maxCount: CATCH_UP_PAGE_SIZE });
      const last = page.at(-1);
      if (last === undefined) break;

      const projected = page.filter((event) => PROJECTED_STREAM_PREFIXES.some((prefix) => event.streamId.startsWith(prefix)));
      await this.applyBatch(projected, last.position);
      eventsRead += page.length;
      after = last.position;
      onProgress?.(eventsRead, last.position);
      if (page.length < CATCH_UP_PAGE_SIZE || signal?.aborted === true) break;
    }

    this.logger.info({ eventsRead, checkpoint: after?.toString() }, 'projector caught up');
    return eventsRead;
  }

  /** Follows the log live from the stored checkpoint until `stop`. */
  start(): void {
    this.worker.start();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  status(): SubscriptionWorkerStatus {
    return this.worker.currentStatus();
  }

  private async applyBatch(events: readonly RecordedEvent[], checkpoint: bigint | undefined): Promise<void> {
    if (checkpoint === undefined) return;

    const changed = new Map<string, ViewChange>();
    for (const event of events) {
      const decoded = decodeEvent(event.type, event.data);
      if (decoded === undefined) {
        this.logger.warn({ eventId: event.id, streamId: event.streamId, type: event.type }, 'skipping event of unknown type');
        continue;
      }

      const target = projectionTarget(decoded);
      const key = `${target.collection}/${target.id}`;
      const current: ViewRecord | undefined = changed.get(key)?.record ?? (await this.readModels.get(target.collection, target.id));
      const change = projectEvent(decoded, Number(event.revision), current);
      if (change !== undefined) changed.set(key, change);
    }

    await this.readModels.applyChanges([...changed.values()], checkpoint);
    this.progress.advance(checkpoint);
  }
}
