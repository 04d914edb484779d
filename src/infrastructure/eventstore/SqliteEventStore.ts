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
  JsonObject,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeToAllOptions,
} from '../../application/ports/EventStore';
import type { Logger } from '../../application/ports/Logger';

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
      return this.statements.readAll.all({ after, limit }) as EventRow[];
    });
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

/**
 * A catch-up subscription over the events table. It reads one page at a time, and reads the
 * next only when the consumer has taken every event of the current one. When a page comes back
 * empty it waits for an append through this store or for the poll timer, then reads again.
 */
class SqliteAllSubscription implements AllSubscription {
  private readonly iterator: AsyncGenerator<RecordedEvent, void, undefined>;
  private wakeUp: (() => void) | undefined;
  private closed = false;

  constructor(
    private lastPosition: bigint,
    private readonly pollIntervalMs: number,
    private readonly readPageAfter: (position: bigint) => RecordedEvent[],
    private readonly onEnd: (subscription: SqliteAllSubscription) => void,
  ) {
    this.iterator = this.deliver();
  }

  /** Returns the subscription's single iterator, so every call shares one position. */
  [Symbol.asyncIterator](): AsyncGenerator<RecordedEvent, void, undefined> {
    return this.iterator;
  }

  notifyAppended(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.onEnd(this);
      this.notifyAppended();
    }
    return Promise.resolve();
  }

  private async *deliver(): AsyncGenerator<RecordedEvent, void, undefined> {
    try {
      while (!this.closed) {
        const page = this.readPageAfter(this.lastPosition);
        if (page.length === 0) {
          await this.waitForAppend();
          continue;
        }

        for (const event of page) {
          if (this.closed) return;
          this.lastPosition = event.position;
          yield event;
        }
      }
    } finally {
      this.closed = true;
      this.onEnd(this);
    }
  }

  // No append through this store can land between the empty read and this wait, because reads and
  // commits are synchronous and notifyAppended runs after the commit. The timer finds other processes' appends.
  private waitForAppend(): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(wake, this.pollIntervalMs);
      this.wakeUp = wake;
    });
  }
}

type SerializedEvent = {
  readonly eventId: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
};

type AppendRequest = {
  readonly streamId: string;
  readonly events: readonly SerializedEvent[];
  readonly expected: ExpectedRevision;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
};

type AppendOutcome = { readonly ok: true; readonly result: AppendResult } | { readonly ok: false; readonly error: Error };

type EventRow = {
  readonly position: bigint;
  readonly stream_id: string;
  readonly revision: bigint;
  readonly event_id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
  readonly recorded_at: bigint;
};

type Statements = ReturnType<typeof prepareStatements>;

const MAX_INT64 = 9223372036854775807n;
const EVENT_COLUMNS = 'position, stream_id, revision, event_id, type, data, metadata, recorded_at';
const SCHEMA_VERSION = 1;

// Primary result codes (and their extended forms, e.g. SQLITE_IOERR_WRITE) that mean the file
// cannot be used right now, as opposed to a bad request or a bug.
const UNAVAILABLE_CODES = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_FULL',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_READONLY',
  'SQLITE_PROTOCOL',
  'SQLITE_NOMEM',
  'SQLITE_PERM',
  'SQLITE_NOLFS',
];

function configureDurability(db: Database.Database, logger: Logger): void {
  // WAL lets subscriptions and other processes read while a batch is written. In WAL mode
  // synchronous = NORMAL may lose the last commits on power loss; FULL syncs the WAL on every
  // commit, so an append that returned survives a crash. Group commit shares that sync among a batch.
  const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
  if (mode !== 'wal') logger.warn({ journalMode: mode }, 'event store file is not in WAL mode, so reads wait for writes');
  db.pragma('synchronous = FULL');
}

function createSchema(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version !== 0) {
    throw new Error(
      `event store file has schema version ${version}, but this build reads only version ${SCHEMA_VERSION}; use a matching build or another file`,
    );
  }

  // AUTOINCREMENT never reuses a position, so positions start at 1 and only grow. SQLite has a
  // single writer, so positions are also committed in order, and a reader never sees a gap
  // that a slower transaction fills in later.
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      position    INTEGER PRIMARY KEY AUTOINCREMENT,
      stream_id   TEXT    NOT NULL,
      revision    INTEGER NOT NULL,
      event_id    TEXT    NOT NULL UNIQUE,
      type        TEXT    NOT NULL,
      data        TEXT    NOT NULL,
      metadata    TEXT    NOT NULL,
      recorded_at INTEGER NOT NULL,
      UNIQUE (stream_id, revision)
    ) STRICT;
    PRAGMA user_version = ${SCHEMA_VERSION};
  `);
}

// safeIntegers makes every INTEGER column (position, revision, recorded_at) come back as bigint,
// so positions past 2^53 keep their exact value.
function prepareStatements(db: Database.Database) {
  return {
    streamRevision: db.prepare('SELECT max(revision) AS revision FROM events WHERE stream_id = ?').safeIntegers(true),
    eventPosition: db
      .prepare('SELECT position FROM events WHERE stream_id = @streamId AND revision = @revision')
      .safeIntegers(true),
    insert: db
      .prepare(
        `INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at)
         VALUES (@streamId, @revision, @eventId, @type, @data, @metadata, @recordedAt)
         RETURNING position`,
      )
      .safeIntegers(true),
    readStreamForwards: db
      .prepare(
        `SELECT ${EVENT_COLUMNS} FROM events
         WHERE stream_id = @streamId AND revision >= @from ORDER BY revision ASC LIMIT @limit`,
      )
      .safeIntegers(true),
    readStreamBackwards: db
      .prepare(
        `SELECT ${EVENT_COLUMNS} FROM events
         WHERE stream_id = @streamId AND revision <= @from ORDER BY revision DESC LIMIT @limit`,
      )
      .safeIntegers(true),
    readAll: db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > @after ORDER BY position ASC LIMIT @limit`)
      .safeIntegers(true),
    headPosition: db.prepare('SELECT max(position) AS position FROM events').safeIntegers(true),
  };
}

/**
 * Prepares the page query of one subscription. The prefix test compares a substring instead of
 * using LIKE, because LIKE treats `%` and `_` in stream names as wildcards and ignores ASCII case.
 */
function prepareFilteredPageRead(
  db: Database.Database,
  prefixes: readonly string[],
  pageSize: number,
): (after: bigint) => EventRow[] {
  const parameters: Record<string, unknown> = { limit: pageSize };
  const conditions = prefixes.map((prefix, index) => {
    parameters[`prefix${index}`] = prefix;
    return `substr(stream_id, 1, length(@prefix${index})) = @prefix${index}`;
  });
  const statement = db
    .prepare(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE position > @after AND (${conditions.join(' OR ')})
       ORDER BY position ASC LIMIT @limit`,
    )
    .safeIntegers(true);

  return (after) => statement.all({ ...parameters, after }) as EventRow[];
}

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

function serializeEvent(event: NewEvent): SerializedEvent {
  const label = `event ${event.id} (${event.type})`;
  return {
    eventId: event.id,
    type: event.type,
    data: toJsonText(event.data, `${label} data`),
    metadata: toJsonText(event.metadata, `${label} metadata`),
  };
}

/**
 * Serialises event data, rejecting values that JSON would turn into something else: a bigint
 * (JSON.stringify throws an unhelpful TypeError) and NaN or Infinity (stored as null).
 */
function toJsonText(value: JsonObject, label: string): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${label} must be a JSON object`);
  }
  return JSON.stringify(value, (key, item: unknown) => {
    if (typeof item === 'bigint') {
      throw new TypeError(`${label}: field "${key}" is a bigint, which JSON cannot hold; pass it as a decimal string`);
    }
    if (typeof item === 'number' && !Number.isFinite(item)) {
      throw new TypeError(`${label}: field "${key}" is ${item}, which JSON cannot hold`);
    }
    return item;
  });
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    streamId: row.stream_id,
    type: row.type,
    revision: row.revision,
    position: row.position,
    data: JSON.parse(row.data) as JsonObject,
    metadata: JSON.parse(row.metadata) as JsonObject,
    recordedAt: new Date(Number(row.recorded_at)),
  };
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

function toStoreError(error: unknown, operation: string): Error {
  if (isUnavailableError(error)) {
    return new EventStoreUnavailableError(`event store ${operation} failed: ${errorMessage(error)}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(`event store ${operation} failed: ${String(error)}`);
}

function isUnavailableError(error: unknown): boolean {
  if (!(error instanceof Database.SqliteError)) return false;
  const { code } = error;
  return UNAVAILABLE_CODES.some((unavailable) => code === unavailable || code.startsWith(`${unavailable}_`));
}

function isDuplicateEventId(error: unknown): boolean {
  return (
    error instanceof Database.SqliteError &&
    error.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    error.message.includes('events.event_id')
  );
}

function isFileSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && !(error instanceof Database.SqliteError);
}

function closedError(): EventStoreUnavailableError {
  return new EventStoreUnavailableError('event store is closed');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
