import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';

import { EventStoreUnavailableError, WrongExpectedRevisionError } from '../../src/application/ports/EventStore';
import type { AllSubscription, NewEvent, RecordedEvent } from '../../src/application/ports/EventStore';
import type { Logger } from '../../src/application/ports/Logger';
import { DuplicateEventIdError, SqliteEventStore } from '../../src/infrastructure/eventstore/SqliteEventStore';
import { describeEventStoreContract } from '../contract/eventStoreContract';
import { silentLogger } from '../support/silentLogger';

describeEventStoreContract('SqliteEventStore', () => {
  const folder = makeTemporaryFolder();
  const store = SqliteEventStore.open(path.join(folder, 'events.sqlite'), silentLogger);
  return Promise.resolve({
    store,
    cleanup: async () => {
      await store.close();
      fs.rmSync(folder, { recursive: true, force: true });
    },
  });
});

describe('SqliteEventStore', () => {
  let folder: string;
  let filePath: string;
  const openStores: SqliteEventStore[] = [];
  const openSubscriptions: AllSubscription[] = [];

  beforeEach(() => {
    folder = makeTemporaryFolder();
    filePath = path.join(folder, 'nested', 'data', 'events.sqlite');
  });

  afterEach(async () => {
    await Promise.all(openSubscriptions.splice(0).map((subscription) => subscription.close()));
    await Promise.all(openStores.splice(0).map((store) => store.close()));
    fs.rmSync(folder, { recursive: true, force: true });
  });

  function open(logger: Logger = silentLogger, options: Parameters<typeof SqliteEventStore.open>[2] = {}): SqliteEventStore {
    const store = SqliteEventStore.open(filePath, logger, options);
    openStores.push(store);
    return store;
  }

  it('creates its folder and numbers positions from 1', async () => {
    const store = open();

    expect(fs.existsSync(filePath)).toBe(true);
    expect(await store.headPosition()).toBeUndefined();
    expect(await store.readAll({ maxCount: 10 })).toEqual([]);
    const first = await store.appendToStream('user-1', [newEvent()], 'no_stream');
    const second = await store.appendToStream('user-2', [newEvent(), newEvent()], 'no_stream');
    expect(first.position).toBe(1n);
    expect(second.position).toBe(3n);
    expect(await store.headPosition()).toBe(3n);
  });

  it('keeps events across close and reopen', async () => {
    const first = open();
    const events = [newEvent({ price: 19.99 }), newEvent({ name: 'Grüße 👋' })];
    await first.appendToStream('order-1', events, 'no_stream');
    await first.close();

    const reopened = open();
    const stored = await reopened.readStream('order-1');
    const next = await reopened.appendToStream('order-1', [newEvent()], 1n);

    expect(stored.map((event) => event.id)).toEqual(events.map((event) => event.id));
    expect(stored.map((event) => event.data)).toEqual(events.map((event) => event.data));
    expect(next).toEqual({ nextExpectedRevision: 2n, position: 3n });
  });

  it('commits concurrent appends in one batch when one of them fails', async () => {
    const logger = new RecordingLogger();
    const store = open(logger);

    const results = await Promise.allSettled([
      store.appendToStream('order-1', [newEvent(), newEvent()], 'no_stream'),
      store.appendToStream('order-2', [newEvent()], 7n),
      store.appendToStream('order-1', [newEvent()], 'no_stream'),
      store.appendToStream('order-3', [newEvent()], 'any'),
      store.appendToStream('order-1', [newEvent()], 1n),
    ]);

    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
    expect(valueOf(results[0])).toEqual({ nextExpectedRevision: 1n, position: 2n });
    expect(reasonOf(results[1])).toBeInstanceOf(WrongExpectedRevisionError);
    expect((reasonOf(results[1]) as WrongExpectedRevisionError).actual).toBe('no_stream');
    expect((reasonOf(results[2]) as WrongExpectedRevisionError).actual).toBe(1n);
    expect(valueOf(results[3])).toEqual({ nextExpectedRevision: 0n, position: 3n });
    expect(valueOf(results[4])).toEqual({ nextExpectedRevision: 2n, position: 4n });
    expect(await store.readStream('order-2')).toEqual([]);
    expect(await store.readStream('order-1')).toHaveLength(3);
    expect(logger.entries.filter((entry) => entry.message === 'append batch committed')).toEqual([
      { level: 'debug', context: { appends: 5 }, message: 'append batch committed' },
    ]);
  });

  it('fails only the append that reuses an event id', async () => {
    const store = open();
    const stored = newEvent();
    await store.appendToStream('product-1', [stored], 'no_stream');

    const results = await Promise.allSettled([
      store.appendToStream('product-2', [newEvent(), { ...stored }], 'no_stream'),
      store.appendToStream('product-3', [newEvent()], 'no_stream'),
    ]);

    expect(reasonOf(results[0])).toBeInstanceOf(DuplicateEventIdError);
    expect(results[1]?.status).toBe('fulfilled');
    expect(await store.readStream('product-2')).toEqual([]);
  });

  it('rejects data that JSON cannot hold', async () => {
    const store = open();

    const withBigint = store.appendToStream('order-1', [newEvent({ position: 5n })], 'no_stream');
    const withNaN = store.appendToStream('order-1', [newEvent({ total: Number.NaN })], 'no_stream');
    const valid = store.appendToStream('order-2', [newEvent()], 'no_stream');

    await expect(withBigint).rejects.toThrow(/"position" is a bigint/);
    await expect(withNaN).rejects.toThrow(/"total" is NaN/);
    await expect(valid).resolves.toEqual({ nextExpectedRevision: 0n, position: 1n });
    expect(await store.readStream('order-1')).toEqual([]);
  });

  it('reads the next page only when the consumer needs it', async () => {
    const store = open(silentLogger, { pageSize: 10 });
    await store.appendToStream('order-1', Array.from({ length: 35 }, () => newEvent()), 'no_stream');
    const allSpy = jest.spyOn(statementPrototype(), 'all');
    const pageReads = (): number =>
      (allSpy.mock.contexts as StatementPrototype[]).filter((statement) => statement.source.includes('substr(stream_id'))
        .length;

    try {
      const iterator = track(store.subscribeToAll({ streamPrefixes: ['order-'] }))[Symbol.asyncIterator]();
      await nextWithin(iterator, 5000);
      expect(pageReads()).toBe(1);
      for (let index = 1; index < 10; index += 1) await nextWithin(iterator, 5000);
      expect(pageReads()).toBe(1);
      await nextWithin(iterator, 5000);
      expect(pageReads()).toBe(2);
    } finally {
      allSpy.mockRestore();
    }
  });

  it('wakes subscriptions on its own appends without polling', async () => {
    const store = open(silentLogger, { pollIntervalMs: 60_000 });
    const iterator = track(store.subscribeToAll({ streamPrefixes: ['order-'] }))[Symbol.asyncIterator]();
    const waiting = nextWithin(iterator, 2000);

    const appended = newEvent();
    await store.appendToStream('order-1', [appended], 'no_stream');

    expect((await waiting).id).toBe(appended.id);
  });

  it('delivers appends made by another instance on the same file', async () => {
    const writer = open();
    const reader = open(silentLogger, { pollIntervalMs: 50 });
    await writer.appendToStream('order-1', [newEvent()], 'no_stream');
    const iterator = track(reader.subscribeToAll({ streamPrefixes: ['order-'] }))[Symbol.asyncIterator]();
    const caughtUp = await nextWithin(iterator, 5000);

    const waiting = nextWithin(iterator, 5000);
    const appended = newEvent();
    await writer.appendToStream('order-1', [appended], 0n);
    const live = await waiting;

    expect(caughtUp.revision).toBe(0n);
    expect(live.id).toBe(appended.id);
    expect(live.position).toBe(2n);
  });

  it('reports a locked file as unavailable, then recovers', async () => {
    const store = open(silentLogger, { busyTimeoutMs: 50 });
    await store.appendToStream('order-1', [newEvent()], 'no_stream');
    const locker = new Database(filePath);
    locker.exec('BEGIN IMMEDIATE');

    try {
      await expect(store.appendToStream('order-1', [newEvent()], 0n)).rejects.toBeInstanceOf(EventStoreUnavailableError);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }

    await expect(store.appendToStream('order-1', [newEvent()], 0n)).resolves.toEqual({ nextExpectedRevision: 1n, position: 2n });
  });

  it('reports a file that is not a database as unavailable', () => {
    fs.mkdirSync(path.dirname(filePath), { recursive: true });
    fs.writeFileSync(filePath, 'not a database '.repeat(512));

    expect(() => open()).toThrow(EventStoreUnavailableError);
  });

  it('writes pending appends before closing', async () => {
    const store = SqliteEventStore.open(filePath, silentLogger);

    const append = store.appendToStream('order-1', [newEvent()], 'no_stream');
    await store.close();

    await expect(append).resolves.toEqual({ nextExpectedRevision: 0n, position: 1n });
    expect(await open().readStream('order-1')).toHaveLength(1);
  });

  it('ends subscriptions and rejects calls once closed', async () => {
    const store = SqliteEventStore.open(filePath, silentLogger);
    const iterator = store.subscribeToAll({ streamPrefixes: [''] })[Symbol.asyncIterator]();
    const waiting = iterator.next();

    await store.close();

    await expect(waiting).resolves.toEqual({ done: true, value: undefined });
    await expect(store.appendToStream('order-1', [newEvent()], 'any')).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(store.readStream('order-1')).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(store.readAll({ maxCount: 1 })).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(store.headPosition()).rejects.toBeInstanceOf(EventStoreUnavailableError);
    expect(() => store.subscribeToAll({ streamPrefixes: [''] })).toThrow(EventStoreUnavailableError);
  });

  it('rejects a subscription without prefixes', () => {
    const store = open();

    expect(() => store.subscribeToAll({ streamPrefixes: [] })).toThrow(RangeError);
  });

  function track(subscription: AllSubscription): AllSubscription {
    openSubscriptions.push(subscription);
    return subscription;
  }
});

type LogEntry = { level: string; context: object; message: string };

class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];

  debug(context: object, message: string): void {
    this.entries.push({ level: 'debug', context, message });
  }

  info(context: object, message: string): void {
    this.entries.push({ level: 'info', context, message });
  }

  warn(context: object, message: string): void {
    this.entries.push({ level: 'warn', context, message });
  }

  error(context: object, message: string): void {
    this.entries.push({ level: 'error', context, message });
  }

  child(): Logger {
    return this;
  }
}

type StatementPrototype = { source: string; all(...parameters: unknown[]): unknown[] };

/** The prototype shared by every better-sqlite3 statement, to count the queries a store runs. */
function statementPrototype(): StatementPrototype {
  const probe = new Database(':memory:');
  const prototype = Object.getPrototypeOf(probe.prepare('SELECT 1')) as StatementPrototype;
  probe.close();
  return prototype;
}

function makeTemporaryFolder(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'shopstream-sqlite-'));
}

function newEvent(data: Record<string, unknown> = { value: randomUUID() }): NewEvent {
  return { id: randomUUID(), type: 'Tested', data, metadata: { correlation_id: randomUUID() } };
}

function valueOf<T>(result: PromiseSettledResult<T> | undefined): T | undefined {
  return result?.status === 'fulfilled' ? result.value : undefined;
}

function reasonOf(result: PromiseSettledResult<unknown> | undefined): unknown {
  return result?.status === 'rejected' ? result.reason : undefined;
}

async function nextWithin(iterator: AsyncIterator<RecordedEvent>, timeoutMs: number): Promise<RecordedEvent> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const result = await Promise.race([iterator.next(), timeout]);
    if (result.done === true) throw new Error('subscription ended');
    return result.value;
  } finally {
    clearTimeout(timer);
  }
}
