import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { EventStore } from '../../src/application/ports/EventStore';
import { SqliteEventStore } from '../../src/infrastructure/eventstore/SqliteEventStore';
import { SubscriptionLag } from '../../src/infrastructure/metrics/SubscriptionLag';
import { silentLogger } from '../support/silentLogger';
import { makeDataDir, removeDataDir } from '../support/testApp';

describe('SubscriptionLag on the embedded store', () => {
  let dataDir: string;
  let store: EventStore;

  beforeEach(() => {
    dataDir = makeDataDir();
    store = SqliteEventStore.open(path.join(dataDir, 'events.sqlite'), silentLogger);
  });

  afterEach(async () => {
    await store.close();
    removeDataDir(dataDir);
  });

  const append = async (streamId: string, count = 1): Promise<bigint> => {
    const events = Array.from({ length: count }, () => ({ id: randomUUID(), type: 'Happened', data: {}, metadata: {} }));
    return (await store.appendToStream(streamId, events, 'any')).position;
  };

  it('reports nothing on an empty log', async () => {
    const lag = new SubscriptionLag(store, ['order-']);

    expect(await lag.measure(undefined, await store.headPosition())).toEqual({ positions: 0n, events: 0, seconds: 0 });
  });

  it('counts only the worker streams', async () => {
    await append('order-1', 2);
    await append('user-1');
    const head = await append('product-1', 3);
    const [firstOrderEvent] = await store.readStream('order-1');
    const now = (firstOrderEvent?.recordedAt.getTime() ?? 0) + 5000;
    const lag = new SubscriptionLag(store, ['order-'], () => now);

    const reading = await lag.measure(undefined, head);

    expect(reading.events).toBe(2);
    expect(reading.seconds).toBe(5);
    expect(reading.positions).toBeGreaterThan(0n);
  });

  it('ignores other streams past the checkpoint', async () => {
    const checkpoint = await append('order-1', 2);
    await append('user-1');
    const head = await append('product-1', 3);
    const lag = new SubscriptionLag(store, ['order-']);

    expect(await lag.measure(checkpoint, head)).toEqual({ positions: 0n, events: 0, seconds: 0 });
  });

  it('resumes after the scanned part', async () => {
    const checkpoint = await append('order-1');
    await append('product-1', 3);
    const lag = new SubscriptionLag(store, ['order-']);
    expect((await lag.measure(checkpoint, await store.headPosition())).events).toBe(0);

    const beforeOrder = await append('product-2');
    const head = await append('order-2');
    const reading = await lag.measure(checkpoint, head);

    expect(reading.events).toBe(1);
    expect(reading.positions).toBe(head - beforeOrder);
  });

  it('rescans when the checkpoint goes back', async () => {
    const checkpoint = await append('order-1');
    const head = await append('product-1', 2);
    const lag = new SubscriptionLag(store, ['order-']);
    expect((await lag.measure(checkpoint, head)).events).toBe(0);

    // A rebuild of in-memory read models starts again from the beginning of the log.
    expect((await lag.measure(undefined, head)).events).toBe(1);
  });
});
