import fs from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

import {
  EventStoreUnavailableError,
  WrongExpectedRevisionError,
} from '../../application/ports/EventStore';
import type {
  AllSubscription,
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeToAllOptions,
} from '../../application/ports/EventStore';
import type { Logger } from '../../application/ports/Logger';

import { SqliteAllSubscription } from './SqliteAllSubscription';
import { closedError, errorMessage, isDuplicateEventId, isFileSystemError, isUnavailableError, toStoreError } from './sqliteErrors';
import { serializeEvent, toRecordedEvent } from './sqliteRows';
import type { EventRow, SerializedEvent } from './sqliteRows';
import { configureDurability, createSchema, prepareFilteredPageRead, prepareFilteredRead, prepareStatements } from './sqliteSchema';
import type { Statements } from './sqliteSchema';

export type SqliteEventStoreOptions = {
  /** How long a statement waits for another connection's lock before failing, in ms. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** How often an idle subscription re-reads the file to see appends from other processes, in ms. Default 1000. */
  readonly pollIntervalMs?: number;
  /** Events a subscription reads per query. It reads the next page only after the consumer has taken this one. Default 500. */
  readonly pageSize?: number;
};

/**
 * The embedded event store: one SQLite file in WAL mode, written through better-sqlite3.
 * Appends that arrive before the next turn of the event loop share one transaction (group
 * commit), so the cost of a durable commit is paid once per batch instead of once per append.
 *
 * better-sqlite3 is synchronous: every statement, and any wait for a lock held by another
 * process (up to `busyTimeoutMs`), blocks the event loop for its duration.
 */
export class SqliteEventStore implements EventStore {
  private readonly statements: Statements;
  private readonly writeBatch: Database.Transaction<(requests: readonly AppendRequest[]) => AppendOutcome[]>;
  private readonly subscriptions = new Set<SqliteAllSubscription>();
  private readonly filteredReads = new Map<string, (after: bigint, limit: number) => EventRow[]>();
  private pendingAppends: AppendRequest[] = [];
  private scheduledFlush: NodeJS.Immediate | undefined;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly logger: Logger,
    private readonly pollIntervalMs: number,
    private readonly pageSize: number,
  ) {
    this.statements = prepareStatements(db);

    // Called inside the batch transaction, better-sqlite3 runs this one as a savepoint, so a
    // failed append rolls back only its own rows and the rest of the batch still commits.
    const appendInSavepoint = db.transaction((request: AppendRequest) => this.appendOne(request));
    this.writeBatch = db.transaction((requests: readonly AppendRequest[]) =>
      requests.map((request) => runAppend(appendInSavepoint, request)),
    );
  }

  /**
   * Opens (or creates) the event store file, creating its folder if needed.
   * Throws `EventStoreUnavailableError` when the file cannot be opened or is not a database.
   */
  static open(filePath: string, logger: Logger, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    const { busyTimeoutMs = 5000, pollIntervalMs = 1000, pageSize = 500 } = options;
    const log = logger.child({ component: 'SqliteEventStore' });

    let db: Database.Database | undefined;
    try {
      fs.mkdirSync(path.dirname(filePath), { recursive: true });
      db = new Database(filePath, { timeout: busyTimeoutMs });
      configureDurability(db, log);
      createSchema(db);
      const store = new SqliteEventStore(db, log, pollIntervalMs, pageSize);
      log.info({ path: filePath }, 'embedded event store opened');
      return store;
    } catch (error) {
      db?.close();
      if (isUnavailableError(error) || isFileSystemError(error)) {
        throw new EventStoreUnavailableError(`cannot open event store file ${filePath}: ${errorMessage(error)}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  appendToStream(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    if (this.closed) return Promise.reject(closedError());

    let serialized: SerializedEvent[];
    try {
      validateStreamId(streamId);
      serialized = events.map(serializeEvent);
    } catch (error) {
      return Promise.reject(toStoreError(error, 'append'));
    }

    return new Promise<AppendResult>((resolve, reject) => {
      this.pendingAppends.push({ streamId, events: serialized, expected, resolve, reject });
      // setImmediate runs after the promise jobs of this turn, so appends started from the same
      // batch of callbacks (Promise.all, several requests parsed together) join one transaction.
      this.scheduledFlush ??= setImmediate(() => this.flushAppends());
    });
  }

  readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    return this.readEvents('read stream', () => {
      validateStreamId(streamId);
      const { direction = 'forwards', fromRevision, maxCount } = options;
      const limit = toSqlLimit(maxCount);
      if (fromRevision !== undefined && fromRevision < 0n) {
        throw new RangeError(`fromRevision must be 0 or more, got ${fromRevision}`);
      }

      if (direction === 'backwards') {
        const from = fromRevision === undefined || fromRevision > MAX_INT64 ? MAX_INT64 : fromRevision;
        return this.statements.readStreamBackwards.all({ streamId, from, limit }) as EventRow[];
      }
      if (fromRevision !== undefined && fromRevision > MAX_INT64) return [];
      return this.statements.readStreamForwards.all({ streamId, from: fromRevision ?? 0n, limit }) as EventRow[];
    });
  }

  readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.readEvents('read all', () => {
      const after = validateAfter(options.after);
      const limit = toSqlLimit(options.maxCount);
      if (options.streamPrefixes === undefined) return this.statements.readAll.all({ after, limit }) as EventRow[];
      return this.filteredRead(options.streamPrefixes)(after, limit);
    });
  }

  /** Returns the prepared read for these prefixes, prepared once per distinct list. */
  private filteredRead(prefixes: readonly string[]): (after: bigint, limit: number) => EventRow[] {
    const key = JSON.stringify(prefixes);
    let read = this.filteredReads.get(key);
    if (read === undefined) {
      read = prepareFilteredRead(this.db, prefixes);
      this.filteredReads.set(key, read);
    }
    return read;
  }

  headPosition(): Promise<bigint | undefined> {
    try {
      if (this.closed) throw closedError();
      const row = this.statements.headPosition.get() as { position: bigint | null };
      return Promise.resolve(row.position ?? undefined);
    } catch (error) {
      return Promise.reject(toStoreError(error, 'read head position'));
    }
  }

  subscribeToAll(options: SubscribeToAllOptions): AllSubscription {
    if (this.closed) throw closedError();
    const after = validateAfter(options.after);
    if (options.streamPrefixes.length === 0) {
      throw new RangeError("streamPrefixes is empty, so nothing would be delivered; pass [''] for every stream");
    }

    const readPage = prepareFilteredPageRead(this.db, options.streamPrefixes, this.pageSize);
    const subscription = new SqliteAllSubscription(
      after,
      this.pollIntervalMs,
      (position) => this.readEventsNow('read subscription page', () => readPage(position)),
      (ended) => this.subscriptions.delete(ended),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Writes the appends still waiting for their batch, ends every subscription, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;

    if (this.scheduledFlush !== undefined) {
      clearImmediate(this.scheduledFlush);
      this.flushAppends();
    }
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));

    this.db.close();
    this.logger.info({}, 'embedded event store closed');
  }

  private flushAppends(): void {
    this.scheduledFlush = undefined;
    const batch = this.pendingAppends;
    this.pendingAppends = [];
    if (batch.length === 0) return;

    let outcomes: AppendOutcome[];
    try {
      // BEGIN IMMEDIATE takes the write lock up front, because a deferred transaction that has read
      // first cannot wait for a lock that another process took meanwhile, and fails with SQLITE_BUSY.
      outcomes = this.writeBatch.immediate(batch);
    } catch (error) {
      const failure = toStoreError(error, 'append');
      this.logger.error({ err: error, appends: batch.length }, 'append batch failed');
      for (const request of batch) request.reject(failure);
      return;
    }

    this.logger.debug({ appends: batch.length }, 'append batch committed');
    batch.forEach((request, index) => {
      const outcome = outcomes[index];
      if (outcome === undefined) request.reject(new Error('append batch returned no outcome for this append'));
      else if (outcome.ok) request.resolve(outcome.result);
      else request.reject(outcome.error);
    });
    for (const subscription of this.subscriptions) subscription.notifyAppended();
  }

  /** Appends one request inside a savepoint of the batch transaction, so a throw rolls back this append only. */
  private appendOne(request: AppendRequest): AppendResult {
    const { streamId, events, expected } = request;
    const row = this.statements.streamRevision.get(streamId) as { revision: bigint | null };
    const current = row.revision;
    checkExpectedRevision(streamId, expected, current);

    if (events.length === 0) return this.currentAppendResult(streamId, current);

    let revision = current ?? -1n;
    let position = 0n;
    const recordedAt = BigInt(Date.now());
    for (const event of events) {
      revision += 1n;
      position = this.insertEvent(streamId, revision, recordedAt, event);
    }
    return { nextExpectedRevision: revision, position };
  }

  private insertEvent(streamId: string, revision: bigint, recordedAt: bigint, event: SerializedEvent): bigint {
    try {
      const inserted = this.statements.insert.get({ streamId, revision, recordedAt, ...event }) as { position: bigint };
      return inserted.position;
    } catch (error) {
      if (isDuplicateEventId(error)) {
        throw new DuplicateEventIdError(streamId, event.eventId, error);
      }
      throw error;
    }
  }

  // NOTE: the port has no revision or position for "nothing written to a stream that does not
  // exist"; this returns -1n (the revision before the first event) and position 0n (before the log).
  private currentAppendResult(streamId: string, current: bigint | null): AppendResult {
    if (current === null) return { nextExpectedRevision: -1n, position: 0n };
    const row = this.statements.eventPosition.get({ streamId, revision: current }) as { position: bigint };
    return { nextExpectedRevision: current, position: row.position };
  }

  private readEvents(operation: string, query: () => EventRow[]): Promise<RecordedEvent[]> {
    try {
      return Promise.resolve(this.readEventsNow(operation, query));
    } catch (error) {
      return Promise.reject(toStoreError(error, operation));
    }
  }

  private readEventsNow(operation: string, query: () => EventRow[]): RecordedEvent[] {
    if (this.closed) throw closedError();
    try {
      return query().map(toRecordedEvent);
    } catch (error) {
      throw toStoreError(error, operation);
    }
  }
}

/** An append that reused an event id already stored (ids are unique across the whole log). */
export class DuplicateEventIdError extends Error {
  readonly code = 'duplicate_event_id';

  constructor(
    readonly streamId: string,
    readonly eventId: string,
    cause: unknown,
  ) {
    super(`stream ${streamId}: event id ${eventId} is already stored`, { cause });
    this.name = 'DuplicateEventIdError';
  }
}

type AppendRequest = {
  readonly streamId: string;
  readonly events: readonly SerializedEvent[];
  readonly expected: ExpectedRevision;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
};

type AppendOutcome = { readonly ok: true; readonly result: AppendResult } | { readonly ok: false; readonly error: Error };

const MAX_INT64 = 9223372036854775807n;

function runAppend(appendInSavepoint: (request: AppendRequest) => AppendResult, request: AppendRequest): AppendOutcome {
  try {
    return { ok: true, result: appendInSavepoint(request) };
  } catch (error) {
    // These fail one append; anything else (I/O, a full disk) aborts the whole batch.
    if (error instanceof WrongExpectedRevisionError || error instanceof DuplicateEventIdError) {
      return { ok: false, error };
    }
    throw error;
  }
}

function checkExpectedRevision(streamId: string, expected: ExpectedRevision, current: bigint | null): void {
  const actual = current ?? 'no_stream';
  const matches =
    expected === 'any' ||
    (expected === 'no_stream' && current === null) ||
    (expected === 'stream_exists' && current !== null) ||
    (typeof expected === 'bigint' && current === expected);
  if (!matches) throw new WrongExpectedRevisionError(streamId, expected, actual);
}

function validateStreamId(streamId: string): void {
  if (typeof streamId !== 'string' || streamId.length === 0) {
    throw new TypeError('streamId must be a non-empty string');
  }
}

function validateAfter(after: bigint | undefined): bigint {
  if (after === undefined) return 0n;
  if (typeof after !== 'bigint' || after < 0n) throw new RangeError(`after must be a bigint of 0 or more, got ${String(after)}`);
  return after > MAX_INT64 ? MAX_INT64 : after;
}

/** Converts maxCount to a LIMIT value; SQLite reads a negative LIMIT as "no limit". */
function toSqlLimit(maxCount: number | undefined): number {
  if (maxCount === undefined) return -1;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) {
    throw new RangeError(`maxCount must be an integer of 0 or more, got ${maxCount}`);
  }
  return maxCount;
}
