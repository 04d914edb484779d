// File pragmas, schema and prepared statements of the embedded event store, so its SQL reads in one place.
// SqliteEventStore contains the append, read and subscription logic and queries through these statements.
import type Database from 'better-sqlite3';

import type { Logger } from '../../application/ports/Logger';

import type { EventRow } from './sqliteRows';

export type Statements = ReturnType<typeof prepareStatements>;

const EVENT_COLUMNS = 'position, stream_id, revision, event_id, type, data, metadata, recorded_at';
const SCHEMA_VERSION = 1;

export function configureDurability(db: Database.Database, logger: Logger): void {
  // WAL lets subscriptions and other processes read while a batch is written. In WAL mode
  // synchronous = NORMAL may lose the last commits on power loss; FULL syncs the WAL on every
  // commit, so an append that returned survives a crash. Group commit shares that sync among a batch.
  const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
  if (mode !== 'wal') logger.warn({ journalMode: mode }, 'event store file is not in WAL mode, so reads wait for writes');
  db.pragma('synchronous = FULL');
}

export function createSchema(db: Database.Database): void {
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
export function prepareStatements(db: Database.Database) {
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

/** Prepares the page query of one subscription, which reads `pageSize` events per page. */
export function prepareFilteredPageRead(
  db: Database.Database,
  prefixes: readonly string[],
  pageSize: number,
): (after: bigint) => EventRow[] {
  const read = prepareFilteredRead(db, prefixes);
  return (after) => read(after, pageSize);
}

/**
 * Prepares a read of the log restricted to streams with the given name prefixes. The prefix
 * test compares a substring instead of using LIKE, because LIKE treats `%` and `_` in stream
 * names as wildcards and ignores ASCII case.
 */
export function prepareFilteredRead(db: Database.Database, prefixes: readonly string[]): (after: bigint, limit: number) => EventRow[] {
  const parameters: Record<string, unknown> = {};
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

  return (after, limit) => statement.all({ ...parameters, after, limit }) as EventRow[];
}
