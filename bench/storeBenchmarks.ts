import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { encodeEvent, type DomainEvent } from '../src/application/events/eventCodec';
import type { NewEvent } from '../src/application/ports/EventStore';
import type { Logger } from '../src/application/ports/Logger';
import type { ReadModelStore } from '../src/application/ports/ReadModelStore';
import { ProjectionProgress } from '../src/application/projection/ProjectionProgress';
import { Projector } from '../src/application/projection/Projector';
import { PROJECTED_STREAM_PREFIXES } from '../src/application/projection/projections';
import { SqliteEventStore } from '../src/infrastructure/eventstore/SqliteEventStore';
import { configureDurability, createSchema } from '../src/infrastructure/eventstore/sqliteSchema';
import { InMemoryReadModelStore } from '../src/infrastructure/readmodel/InMemoryReadModelStore';
import type { FigureSet } from './figures';
import { RUNS } from './httpBenchmarks';

/** Events in the log that the rebuild reads; kept small so that a whole run stays within minutes. */
// TODO: measure rebuilds of longer logs (millions of events) too, where memory use of the in-memory read models may matter.
export const REBUILD_EVENTS = 100_000;
const APPENDS_PER_RUN = 50_000;
const EVENTS_PER_TRANSACTION = 100;
const MAX_APPEND_RUN_MS = 60_000;
/** Appends handed to the store before waiting, so the store's group commit batches them as concurrent requests would. */
const FILL_CONCURRENCY = 500;
export const ORDERS_PER_CUSTOMER = 10;

export const FIGURE = {
  sqliteAppend: `SQLite appends (WAL, synchronous=FULL, ${EVENTS_PER_TRANSACTION} per transaction), events/s`,
  sqliteReadParse: 'SQLite read of the whole log with JSON.parse of data and metadata, events/s',
  rebuild: `Rebuild of in-memory read models (Projector.catchUp) from ${REBUILD_EVENTS.toLocaleString('en-US')} events, events/s`,
} as const;

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** Measures raw SQLite appends, raw read-and-parse of a filled log, and the projector's rebuild from that log. */
export async function measureStore(figures: FigureSet): Promise<void> {
  const folder = mkdtempSync(path.join(tmpdir(), 'shopstream-bench-store-'));
  try {
    for (let run = 1; run <= RUNS; run += 1) {
      const eventsPerSecond = measureAppends(path.join(folder, `appends-${run}.sqlite`));
      figures.record(FIGURE.sqliteAppend, 'events/s', eventsPerSecond);
      console.log(`${FIGURE.sqliteAppend}: run ${run}: ${eventsPerSecond.toFixed(0)}`);
    }

    const logFile = path.join(folder, 'log.sqlite');
    const stored = await fillLog(logFile, REBUILD_EVENTS);
    console.log(`filled ${logFile} with ${stored} events`);

    // Alternating the two keeps drift in the machine's state (page cache, CPU clock) from favouring either.
    for (let run = 1; run <= RUNS; run += 1) {
      const readRate = measureReadAndParse(logFile, stored);
      figures.record(FIGURE.sqliteReadParse, 'events/s', readRate);
      const rebuildRate = await measureRebuild(logFile, stored);
      figures.record(FIGURE.rebuild, 'events/s', rebuildRate);
      console.log(`read-and-parse run ${run}: ${readRate.toFixed(0)} events/s; rebuild run ${run}: ${rebuildRate.toFixed(0)} events/s`);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Inserts APPENDS_PER_RUN events through the store's schema and pragmas, without the store's code. */
function measureAppends(file: string): number {
  const db = new Database(file);
  try {
    configureDurability(db, silentLogger);
    createSchema(db);
    const insert = db.prepare(
      `INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at)
       VALUES (@streamId, @revision, @eventId, @type, @data, @metadata, @recordedAt)`,
    );
    const rows = sampleEvents(EVENTS_PER_TRANSACTION).map(({ streamId, revision, event }) => ({
      streamId,
      revision,
      type: event.type,
      data: JSON.stringify(event.data),
      metadata: JSON.stringify(event.metadata),
    }));
    let batchNumber = 0;
    const insertBatch = db.transaction(() => {
      batchNumber += 1;
      const recordedAt = Date.now();
      for (const row of rows) {
        // Stream ids carry the batch number, so (stream_id, revision) stays unique across batches.
        insert.run({ ...row, streamId: `${row.streamId}-${batchNumber}`, eventId: randomUUID(), recordedAt });
      }
    });

    const started = performance.now();
    let written = 0;
    while (written < APPENDS_PER_RUN && performance.now() - started < MAX_APPEND_RUN_MS) {
      insertBatch.immediate();
      written += EVENTS_PER_TRANSACTION;
    }
    return (written * 1000) / (performance.now() - started);
  } finally {
    db.close();
  }
}

/** Reads every row in log order and parses its data and metadata: the least work a rebuild must do. */
export function measureReadAndParse(file: string, expected: number): number {
  const db = new Database(file, { readonly: true });
  try {
    const select = db.prepare('SELECT position, stream_id, revision, event_id, type, data, metadata, recorded_at FROM events ORDER BY position');
    const started = performance.now();
    let count = 0;
    let checksum = 0;
    for (const row of select.iterate() as Iterable<{ data: string; metadata: string }>) {
      const data = JSON.parse(row.data) as Record<string, unknown>;
      const metadata = JSON.parse(row.metadata) as Record<string, unknown>;
      // Touching the parsed objects keeps the parse from being optimised away.
      checksum += Object.keys(data).length + Object.keys(metadata).length;
      count += 1;
    }
    const elapsedMs = performance.now() - started;
    if (count !== expected || checksum === 0) throw new Error(`read ${count} events, expected ${expected}`);
    return (count * 1000) / elapsedMs;
  } finally {
    db.close();
  }
}

/**
 * Replays the log in `file` into `readModels` with Projector.catchUp and returns log events/s:
 * every event of the log, `expected` of them, over the replay's time, whether the projector
 * applied or skipped it, so the figure compares with reading the whole log. An aborted
 * `signal` ends the replay after the page being applied, which fails the count check.
 */
export async function measureRebuild(
  file: string,
  expected: number,
  readModels: ReadModelStore = new InMemoryReadModelStore(),
  signal?: AbortSignal,
): Promise<number> {
  const store = SqliteEventStore.open(file, silentLogger);
  try {
    const projector = new Projector(store, readModels, new ProjectionProgress(), silentLogger, {
      maxBatchSize: 500,
      retry: { initialDelayMs: 200, maxDelayMs: 5000 },
    });
    const started = performance.now();
    const eventsRead = await projector.catchUp({ signal });
    const elapsedMs = performance.now() - started;
    const projected = countProjectedEvents(file);
    if (eventsRead !== projected) throw new Error(`rebuild read ${eventsRead} events of projected streams, expected ${projected}`);
    return (expected * 1000) / elapsedMs;
  } finally {
    await store.close();
  }
}

/** Counts the events of the streams that the projector reads, straight from the file. */
function countProjectedEvents(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    const condition = PROJECTED_STREAM_PREFIXES.map((prefix) => `substr(stream_id, 1, ${prefix.length}) = '${prefix}'`).join(' OR ');
    const row = db.prepare(`SELECT count(*) AS count FROM events WHERE ${condition}`).get() as { count: number };
    return row.count;
  } finally {
    db.close();
  }
}

/** Appends about `target` events through SqliteEventStore and returns how many it stored. */
export async function fillLog(file: string, target: number): Promise<number> {
  const store = SqliteEventStore.open(file, silentLogger);
  try {
    const appends = logAppends(target);
    for (let start = 0; start < appends.length; start += FILL_CONCURRENCY) {
      const chunk = appends.slice(start, start + FILL_CONCURRENCY);
      await Promise.all(chunk.map(({ streamId, events }) => store.appendToStream(streamId, events, 'no_stream')));
    }
    return appends.reduce((sum, { events }) => sum + events.length, 0);
  } finally {
    await store.close();
  }
}

type SampleEvent = { readonly streamId: string; readonly revision: number; readonly event: NewEvent };

/** Builds one customer's events: UserRegistered, then ORDERS_PER_CUSTOMER orders with OrderCreated and OrderStatusChanged each. */
function customerEvents(customerId: number, firstOrderId: number): SampleEvent[] {
  const at = new Date(Date.UTC(2026, 0, 1) + customerId * 1000).toISOString();
  const events: SampleEvent[] = [
    {
      streamId: `user-${customerId}`,
      revision: 0,
      event: toNewEvent({
        type: 'UserRegistered',
        data: {
          userId: customerId,
          email: `customer${customerId}@bench.example`,
          username: `customer_${customerId}`,
          // A bcrypt hash has this length and shape; its value does not matter to projections.
          passwordHash: `$2b$10$${'x'.repeat(53)}`,
          registeredAt: at,
        },
      }),
    },
  ];
  for (let orderId = firstOrderId; orderId < firstOrderId + ORDERS_PER_CUSTOMER; orderId += 1) {
    const streamId = `order-${orderId}`;
    events.push(
      { streamId, revision: 0, event: toNewEvent({ type: 'OrderCreated', data: { orderId, customerId, totalAmount: { minorUnits: 9950 }, status: 'pending', createdAt: at } }) },
      { streamId, revision: 1, event: toNewEvent({ type: 'OrderStatusChanged', data: { orderId, from: 'pending', to: 'processed', changedAt: at } }) },
    );
  }
  return events;
}

function logAppends(target: number): { streamId: string; events: NewEvent[] }[] {
  const appends: { streamId: string; events: NewEvent[] }[] = [];
  let count = 0;
  for (let customerId = 1; count < target; customerId += 1) {
    const events = customerEvents(customerId, (customerId - 1) * ORDERS_PER_CUSTOMER + 1);
    for (const sample of events) {
      const previous = appends.at(-1);
      if (previous?.streamId === sample.streamId) previous.events.push(sample.event);
      else appends.push({ streamId: sample.streamId, events: [sample.event] });
    }
    count += events.length;
  }
  return appends;
}

function sampleEvents(count: number): SampleEvent[] {
  const events: SampleEvent[] = [];
  for (let customerId = 1; events.length < count; customerId += 1) {
    events.push(...customerEvents(customerId, (customerId - 1) * ORDERS_PER_CUSTOMER + 1));
  }
  return events.slice(0, count);
}

/**
 * Wraps event data with the metadata fields of the app's AggregateRepository. Order events get
 * fixed placeholder values of the app's hash chain fields, with the same length as a SHA-256 hex digest.
 */
function toNewEvent(event: DomainEvent): NewEvent {
  const { type, data } = encodeEvent(event);
  return {
    id: randomUUID(),
    type,
    data,
    metadata: {
      correlation_id: randomUUID(),
      causation_id: randomUUID(),
      occurred_at: new Date().toISOString(),
      ...(type.startsWith('Order') && { hash: 'f'.repeat(64), previous_hash: '0'.repeat(64) }),
    },
  };
}
