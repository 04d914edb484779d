import { decodeEvent, type DomainEvent } from '../events/eventCodec';
import type { EventStore, RecordedEvent } from '../ports/EventStore';
import type { Logger } from '../ports/Logger';
import type { CollectionName, ReadModelStore, ViewChange, ViewRecord } from '../ports/ReadModelStore';
import type { BackoffOptions } from '../shared/Backoff';
import { SubscriptionWorker, type SubscriptionWorkerStatus } from '../shared/SubscriptionWorker';
import { PROJECTED_STREAM_PREFIXES, projectEvent, projectionTarget, type ProjectionTarget } from './projections';
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
  /**
   * Records of the last batch that `applyChanges` stored, by `<collection>/<id>`. A stream often
   * continues in the next batch, and these records spare the store a read of those documents.
   * Only a record at the revision right before a batch's first event of its stream is used:
   * after a lease handover another instance may have applied the events in between.
   */
  private lastBatchRecords = new Map<string, ViewRecord>();

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
   * Applies every event of the projected streams up to the head of the log as it was when
   * called; returns how many it read. An aborted `signal` ends the catch-up after the page
   * being applied.
   */
  async catchUp(options: CatchUpOptions = {}): Promise<number> {
    const { onProgress, signal } = options;
    let after = await this.readModels.getCheckpoint();
    if (after !== undefined) this.progress.advance(after);
    let eventsRead = 0;

    for (;;) {
      const page = await this.eventStore.readAll({ after, maxCount: CATCH_UP_PAGE_SIZE, streamPrefixes: PROJECTED_STREAM_PREFIXES });
      const last = page.at(-1);
      if (last === undefined) break;

      await this.applyBatch(page, last.position);
      eventsRead += page.length;
      after = last.position;
      onProgress?.(eventsRead, last.position);
      if (page.length < CATCH_UP_PAGE_SIZE || signal?.aborted === true) break;
      // A turn of the event loop between pages lets timers, lease renewals and log writes run during a long catch-up.
      await new Promise((resolve) => setImmediate(resolve));
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

    const projectable = this.decodeBatch(events);
    const stored = await this.loadStoredDocuments(projectable);
    const changed = new Map<string, ViewChange>();
    for (const { event, revision, key } of projectable) {
      const pending = changed.get(key);
      const storedRecord = stored.get(key);
      const change = projectEvent(event, revision, pending?.record ?? storedRecord);
      if (change === undefined) continue;

      // Marks changes to documents read from the store, so that the store can update them
      // without trying an insert first.
      const documentExists = pending === undefined ? storedRecord !== undefined : pending.documentExists === true;
      changed.set(key, { ...change, documentExists });
    }

    await this.readModels.applyChanges([...changed.values()], checkpoint);
    this.lastBatchRecords = new Map([...changed].map(([key, change]) => [key, change.record]));
    this.progress.advance(checkpoint);
  }

  /** Decodes the batch's events, skipping those of an unknown type with a warning. */
  private decodeBatch(events: readonly RecordedEvent[]): ProjectableEvent[] {
    const projectable: ProjectableEvent[] = [];
    for (const event of events) {
      const decoded = decodeEvent(event.type, event.data);
      if (decoded === undefined) {
        this.logger.warn({ eventId: event.id, streamId: event.streamId, type: event.type }, 'skipping event of unknown type');
        continue;
      }

      const target = projectionTarget(decoded);
      projectable.push({ event: decoded, revision: Number(event.revision), target, key: `${target.collection}/${target.id}` });
    }
    return projectable;
  }

  /**
   * Returns the documents that the batch's events fold into, from the last batch's records or
   * with one `getMany` per collection. A document whose first event in the batch has revision 0
   * is not read: nothing precedes that event, so the event creates the document. When a replay
   * meets a document that already exists, the store's revision guard rejects the recomputed
   * one, which is harmless.
   */
  private async loadStoredDocuments(events: readonly ProjectableEvent[]): Promise<Map<string, ViewRecord>> {
    const firstEvents = new Map<string, ProjectableEvent>();
    for (const event of events) {
      if (!firstEvents.has(event.key)) firstEvents.set(event.key, event);
    }

    const stored = new Map<string, ViewRecord>();
    const idsByCollection = new Map<CollectionName, number[]>();
    for (const { revision, target, key } of firstEvents.values()) {
      if (revision === 0) continue;
      const lastRecord = this.lastBatchRecords.get(key);
      if (lastRecord?.revision === revision - 1) {
        stored.set(key, lastRecord);
        continue;
      }
      const ids = idsByCollection.get(target.collection) ?? [];
      ids.push(target.id);
      idsByCollection.set(target.collection, ids);
    }

    for (const [collection, ids] of idsByCollection) {
      const records = await this.readModels.getMany(collection, ids);
      for (const [id, record] of records) stored.set(`${collection}/${id}`, record);
    }
    return stored;
  }
}

type ProjectableEvent = {
  readonly event: DomainEvent;
  /** Revision of the event in its stream. */
  readonly revision: number;
  readonly target: ProjectionTarget;
  /** `<collection>/<id>` of the document the event changes. */
  readonly key: string;
};
