import { randomUUID } from 'node:crypto';
import net from 'node:net';

import {
  EventStoreDBClient,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
  streamNameFilter,
} from '@eventstore/db-client';
import type { AllStreamResolvedEvent, ResolvedEvent } from '@eventstore/db-client';

import { EventStoreUnavailableError, WrongExpectedRevisionError } from '../../src/application/ports/EventStore';
import type { AllSubscription, NewEvent, RecordedEvent } from '../../src/application/ports/EventStore';
import { EsdbEventStore } from '../../src/infrastructure/eventstore/EsdbEventStore';
import type { RunningEsdbTestServer } from '../support/esdbTestServer/server';
import { EsdbTestServer } from '../support/esdbTestServer/server';
import { silentLogger } from '../support/silentLogger';

/** Short enough that a test of an unanswered call finishes quickly, long enough for a busy CI machine. */
const REQUEST_TIMEOUT_MS = 1_500;

describe.each([true, false])('EventStoreDB test server (batchAppend: %s)', (batchAppend) => {
  let server: EsdbTestServer;
  let running: RunningEsdbTestServer;
  let store: EsdbEventStore;
  let client: EventStoreDBClient;
  const subscriptions: AllSubscription[] = [];

  beforeEach(async () => {
    server = new EsdbTestServer({ batchAppend });
    running = await server.start();
    store = new EsdbEventStore({ connectionString: running.connectionString, logger: silentLogger, requestTimeoutMs: REQUEST_TIMEOUT_MS });
    client = EventStoreDBClient.connectionString(running.connectionString);
  });

  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((subscription) => subscription.close()));
    await store.close();
    await client.dispose();
    await running.stop();
  });

  function subscribe(...args: Parameters<EsdbEventStore['subscribeToAll']>): AsyncIterator<RecordedEvent> {
    const subscription = store.subscribeToAll(...args);
    subscriptions.push(subscription);
    return subscription[Symbol.asyncIterator]();
  }

  it('takes the append path that ServerFeatures advertises', async () => {
    await store.appendToStream('order-1', [newEvent()], 'no_stream');
    await client.appendToStream('order-1', jsonEvent({ type: 'Tested', data: {} }), { expectedRevision: 0n });

    expect(server.calls.get('ServerFeatures.GetSupportedMethods')).toBe(2);
    expect(server.calls.get('Streams.BatchAppend') ?? 0).toBe(batchAppend ? 2 : 0);
    expect(server.calls.get('Streams.Append') ?? 0).toBe(batchAppend ? 0 : 2);
  });

  it('holds seeded system events in $all', async () => {
    const events = await collect(client.readAll({ maxCount: 100 }));

    expect(events.length).toBeGreaterThan(0);
    expect(events.every((resolved) => resolved.event?.streamId.startsWith('$'))).toBe(true);
    expect(await store.readAll({ maxCount: 100 })).toEqual([]);
    expect(await store.headPosition()).toBe(events.at(-1)?.event?.position.commit);
  });

  it('filters subscriptions on the server', async () => {
    const stream = `order-${randomUUID()}`;
    const received: AllStreamResolvedEvent[] = [];
    const subscription = client.subscribeToAll({ filter: streamNameFilter({ prefixes: ['order-'] }) });
    server.log.appendSystemEvent('$stats-127.0.0.1:2113', '$statsCollected', {});
    await client.appendToStream(`product-${randomUUID()}`, jsonEvent({ type: 'Tested', data: {} }));
    await client.appendToStream(stream, jsonEvent({ type: 'Tested', data: {} }));

    for await (const resolved of subscription) {
      received.push(resolved);
      break;
    }
    await subscription.unsubscribe();

    expect(received.map((resolved) => resolved.event?.streamId)).toEqual([stream]);
  });

  it('starts a subscription after its position', async () => {
    const stream = `order-${randomUUID()}`;
    await client.appendToStream(stream, [jsonEvent({ type: 'Tested', data: {} }), jsonEvent({ type: 'Tested', data: {} })]);
    const [first] = await collect(client.readStream(stream, { maxCount: 1 }));
    const received: AllStreamResolvedEvent[] = [];

    const subscription = client.subscribeToAll({
      fromPosition: first?.event?.position,
      filter: streamNameFilter({ prefixes: [stream] }),
    });
    for await (const resolved of subscription) {
      received.push(resolved);
      break;
    }
    await subscription.unsubscribe();

    expect(first?.event?.revision).toBe(0n);
    expect(received.map((resolved) => resolved.event?.revision)).toEqual([1n]);
  });

  it('never passes system events to a subscription for every stream', async () => {
    const stream = `order-${randomUUID()}`;
    await store.appendToStream(stream, [newEvent()], 'no_stream');
    const tombstoned = `order-${randomUUID()}`;
    await store.appendToStream(tombstoned, [newEvent()], 'no_stream');
    const iterator = subscribe({ streamPrefixes: [''] });

    server.log.appendSystemEvent('$stats-127.0.0.1:2113', '$statsCollected', {});
    await client.deleteStream(stream);
    await client.tombstoneStream(tombstoned);
    const sentinel = newEvent();
    await store.appendToStream(stream, [sentinel], 'any');
    const delivered = await take(iterator, 3);

    expect(delivered.map((event) => event.streamId)).toEqual([stream, tombstoned, stream]);
    expect(delivered[2]?.id).toBe(sentinel.id);
    expect(delivered[2]?.revision).toBe(1n);
  });

  it('soft-deletes a stream and continues its numbering', async () => {
    const stream = `order-${randomUUID()}`;
    await store.appendToStream(stream, [newEvent(), newEvent()], 'no_stream');

    await client.deleteStream(stream, { expectedRevision: 1n });

    await expect(collect(client.readStream(stream))).rejects.toBeInstanceOf(StreamNotFoundError);
    expect(await store.readStream(stream)).toEqual([]);
    await expect(store.appendToStream(stream, [newEvent()], 'no_stream')).rejects.toMatchObject({ actual: 1n });
    const next = await store.appendToStream(stream, [newEvent()], 'any');
    expect(next.nextExpectedRevision).toBe(2n);
    expect((await store.readStream(stream)).map((event) => event.revision)).toEqual([2n]);
    const inAll = (await collect(client.readAll())).filter((resolved) => resolved.event?.streamId === stream);
    expect(inAll.map((resolved) => resolved.event?.revision)).toEqual([0n, 1n, 2n]);
  });

  it('reports a wrong expected revision on delete through trailers', async () => {
    const stream = `order-${randomUUID()}`;
    await store.appendToStream(stream, [newEvent()], 'no_stream');

    const error = await client.deleteStream(stream, { expectedRevision: 5n }).catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    expect(error).toMatchObject({ streamName: stream, expectedVersion: 5n, actualVersion: 0n });
  });

  it('rejects reads and appends of a tombstoned stream', async () => {
    const stream = `order-${randomUUID()}`;
    await store.appendToStream(stream, [newEvent()], 'no_stream');

    await client.tombstoneStream(stream);

    await expect(collect(client.readStream(stream))).rejects.toBeInstanceOf(StreamDeletedError);
    await expect(client.appendToStream(stream, jsonEvent({ type: 'Tested', data: {} }))).rejects.toBeInstanceOf(
      StreamDeletedError,
    );
    await expect(client.deleteStream(stream)).rejects.toBeInstanceOf(StreamDeletedError);
    expect(await store.readStream(stream)).toEqual([]);
    const append = await store.appendToStream(stream, [newEvent()], 'any').catch((reason: unknown) => reason);
    expect(append).toBeInstanceOf(Error);
    expect(append).not.toBeInstanceOf(WrongExpectedRevisionError);
    expect(append).not.toBeInstanceOf(EventStoreUnavailableError);
    expect((append as Error).message).toMatch(/deleted/i);
  });

  it('waits for the reader during a large catch-up', async () => {
    const stream = `order-${randomUUID()}`;
    const payload = 'x'.repeat(2_000);
    const ids: string[] = [];
    for (let batch = 0; batch < 10; batch += 1) {
      const events = Array.from({ length: 300 }, () => newEvent({ payload }));
      ids.push(...events.map((event) => event.id));
      await store.appendToStream(stream, events, 'any');
    }
    const iterator = subscribe({ streamPrefixes: [stream] });

    const first = await take(iterator, 1);
    await pollUntil(() => server.readStats.drainWaits > 0, 5_000, 'the server never waited for the call to drain');
    const sentWhileWaiting = server.readStats.eventsSent;
    const rest = await take(iterator, ids.length - 1, 30_000);

    expect(sentWhileWaiting).toBeLessThan(ids.length);
    expect([...first, ...rest].map((event) => event.id)).toEqual(ids);
  });

  it('ends the iteration when the server ends the subscription with OK', async () => {
    const stream = `order-${randomUUID()}`;
    await store.appendToStream(stream, [newEvent()], 'no_stream');
    const iterator = subscribe({ streamPrefixes: [stream] });
    await take(iterator, 1);
    await pollUntil(() => server.endSubscriptions() === 1, 5_000, 'the subscription never reached the server');

    const result = await withDeadline(iterator.next(), 5_000, 'iteration did not end');

    expect(result.done).toBe(true);
  });

  it('keeps its data across a stop and a restart on the same port', async () => {
    const stream = `order-${randomUUID()}`;
    const stored = newEvent();
    await store.appendToStream(stream, [stored], 'no_stream');

    await running.stop();
    const started = Date.now();
    await expect(store.appendToStream(stream, [newEvent()], 0n)).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(store.readStream(stream)).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(store.headPosition()).rejects.toBeInstanceOf(EventStoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(3 * REQUEST_TIMEOUT_MS);

    await running.restart();
    const next = await retryWhileUnavailable(() => store.appendToStream(stream, [newEvent()], 0n));
    expect(next.nextExpectedRevision).toBe(1n);
    expect((await store.readStream(stream)).map((event) => event.id)[0]).toBe(stored.id);
  });

  it('fails an open subscription when the server stops', async () => {
    const stream = `order-${randomUUID()}`;
    await store.appendToStream(stream, [newEvent()], 'no_stream');
    const iterator = subscribe({ streamPrefixes: [stream] });
    await take(iterator, 1);
    const waiting = iterator.next().then(
      (result) => result,
      (reason: unknown) => reason,
    );

    await running.stop();

    // A stopping server cancels its calls, so the iteration throws rather than ends.
    const outcome = await withDeadline(waiting, 5_000, 'subscription did not settle after the server stopped');
    expect(outcome).toBeInstanceOf(EventStoreUnavailableError);
  });
});

describe('EsdbEventStore without a reachable server', () => {
  const sockets = new Set<net.Socket>();
  let silent: net.Server | undefined;

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => (silent === undefined ? resolve(undefined) : silent.close(resolve)));
  });

  it('reports a closed port as unavailable', async () => {
    const running = await new EsdbTestServer().start();
    await running.stop();
    const store = new EsdbEventStore({ connectionString: running.connectionString, logger: silentLogger, requestTimeoutMs: REQUEST_TIMEOUT_MS });

    try {
      await expect(store.appendToStream('order-1', [newEvent()], 'any')).rejects.toBeInstanceOf(EventStoreUnavailableError);
      await expect(store.readAll({ maxCount: 1 })).rejects.toBeInstanceOf(EventStoreUnavailableError);
    } finally {
      await store.close();
    }
  });

  it('times out on a server that never answers', async () => {
    silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent?.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const store = new EsdbEventStore({ connectionString: `esdb://127.0.0.1:${port}?tls=false`, logger: silentLogger, requestTimeoutMs: 500 });

    try {
      const started = Date.now();
      await expect(store.appendToStream('order-1', [newEvent()], 'any')).rejects.toBeInstanceOf(EventStoreUnavailableError);
      await expect(store.readStream('order-1')).rejects.toBeInstanceOf(EventStoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await store.close();
    }
  });
});

function newEvent(data: Record<string, unknown> = { value: randomUUID() }): NewEvent {
  return { id: randomUUID(), type: 'Tested', data, metadata: {} };
}

async function collect<Event extends ResolvedEvent | AllStreamResolvedEvent>(read: AsyncIterable<Event>): Promise<Event[]> {
  const events: Event[] = [];
  for await (const event of read) events.push(event);
  return events;
}

async function take(iterator: AsyncIterator<RecordedEvent>, count: number, timeoutMs = 10_000): Promise<RecordedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  const events: RecordedEvent[] = [];
  while (events.length < count) {
    const result = await withDeadline(iterator.next(), Math.max(deadline - Date.now(), 0), `received ${events.length} of ${count} events`);
    if (result.done === true) throw new Error(`subscription ended after ${events.length} of ${count} events`);
    events.push(result.value);
  }
  return events;
}

async function withDeadline<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function pollUntil(condition: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Retries while the client still uses the channel that failed during the outage; a failed call makes it reconnect. */
async function retryWhileUnavailable<T>(operation: () => Promise<T>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof EventStoreUnavailableError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
