import { randomUUID } from 'node:crypto';

import { WrongExpectedRevisionError } from '../../src/application/ports/EventStore';
import type {
  AllSubscription,
  AppendResult,
  EventStore,
  JsonObject,
  NewEvent,
  RecordedEvent,
  SubscribeToAllOptions,
} from '../../src/application/ports/EventStore';

/**
 * How soon close() must end an iteration. It is short so that an adapter that only notices the
 * close on its next poll or on the next event fails the suite.
 */
const PROMPT_CLOSE_MS = 500;

export type EventStoreFactory = () => Promise<{ store: EventStore; cleanup: () => Promise<void> }>;

/**
 * Registers the behaviour every `EventStore` adapter must show. Each test writes to streams
 * with a random suffix and never assumes an empty log, so the suite also runs against a
 * shared server that other tests write to at the same time.
 */
export function describeEventStoreContract(name: string, makeStore: EventStoreFactory): void {
  describe(`${name} (event store contract)`, () => {
    let store: EventStore;
    let cleanup: (() => Promise<void>) | undefined;
    const openSubscriptions: AllSubscription[] = [];

    beforeAll(async () => {
      ({ store, cleanup } = await makeStore());
    });

    afterEach(async () => {
      await Promise.all(openSubscriptions.splice(0).map((subscription) => subscription.close()));
    });

    afterAll(async () => {
      await cleanup?.();
    });

    function subscribe(options: SubscribeToAllOptions): SubscriptionReader {
      const subscription = store.subscribeToAll(options);
      openSubscriptions.push(subscription);
      return new SubscriptionReader(subscription);
    }

    describe('appendToStream', () => {
      it('numbers revisions from 0', async () => {
        const stream = uniqueStream('revisions');

        const first = await store.appendToStream(stream, [newEvent(), newEvent()], 'no_stream');
        const second = await store.appendToStream(stream, [newEvent()], 1n);

        expect(first.nextExpectedRevision).toBe(1n);
        expect(second.nextExpectedRevision).toBe(2n);
        const events = await store.readStream(stream);
        expect(events.map((event) => event.revision)).toEqual([0n, 1n, 2n]);
      });

      it('returns the position of the last event written', async () => {
        const stream = uniqueStream('result-position');

        const result = await store.appendToStream(stream, [newEvent(), newEvent()], 'no_stream');

        const events = await store.readStream(stream);
        expect(result.position).toBe(events[1]?.position);
      });

      it("accepts 'no_stream' only for a new stream", async () => {
        const stream = uniqueStream('no-stream');
        await store.appendToStream(stream, [newEvent(), newEvent()], 'no_stream');

        await expectWrongExpectedRevision(store.appendToStream(stream, [newEvent()], 'no_stream'), stream, 1n);
      });

      it("accepts 'stream_exists' only for an existing stream", async () => {
        const stream = uniqueStream('stream-exists');

        await expectWrongExpectedRevision(store.appendToStream(stream, [newEvent()], 'stream_exists'), stream, 'no_stream');

        await store.appendToStream(stream, [newEvent()], 'no_stream');
        const result = await store.appendToStream(stream, [newEvent()], 'stream_exists');
        expect(result.nextExpectedRevision).toBe(1n);
      });

      it("accepts 'any' for new and existing streams", async () => {
        const stream = uniqueStream('any');

        const created = await store.appendToStream(stream, [newEvent()], 'any');
        const extended = await store.appendToStream(stream, [newEvent()], 'any');

        expect(created.nextExpectedRevision).toBe(0n);
        expect(extended.nextExpectedRevision).toBe(1n);
      });

      it('accepts an exact revision only when it is current', async () => {
        const stream = uniqueStream('exact');
        await store.appendToStream(stream, [newEvent(), newEvent(), newEvent()], 'no_stream');

        await expectWrongExpectedRevision(store.appendToStream(stream, [newEvent()], 1n), stream, 2n);
        await expectWrongExpectedRevision(store.appendToStream(stream, [newEvent()], 3n), stream, 2n);
        const result = await store.appendToStream(stream, [newEvent()], 2n);
        expect(result.nextExpectedRevision).toBe(3n);
      });

      it('rejects an exact revision for a missing stream', async () => {
        const stream = uniqueStream('exact-missing');

        await expectWrongExpectedRevision(store.appendToStream(stream, [newEvent()], 0n), stream, 'no_stream');

        expect(await store.readStream(stream)).toEqual([]);
      });

      it('writes nothing when the expectation fails', async () => {
        const stream = uniqueStream('failed-append');
        await store.appendToStream(stream, [newEvent()], 'no_stream');

        await expectWrongExpectedRevision(store.appendToStream(stream, [newEvent(), newEvent()], 5n), stream, 0n);

        expect(await store.readStream(stream)).toHaveLength(1);
      });

      it('checks the expectation when appending zero events', async () => {
        const stream = uniqueStream('zero-events');
        await store.appendToStream(stream, [newEvent(), newEvent()], 'no_stream');

        const result = await store.appendToStream(stream, [], 1n);

        expect(result.nextExpectedRevision).toBe(1n);
        await expectWrongExpectedRevision(store.appendToStream(stream, [], 0n), stream, 1n);
        await expectWrongExpectedRevision(store.appendToStream(stream, [], 'no_stream'), stream, 1n);
        const missing = uniqueStream('zero-events-missing');
        await expectWrongExpectedRevision(store.appendToStream(missing, [], 'stream_exists'), missing, 'no_stream');
        expect(await store.readStream(stream)).toHaveLength(2);
        expect(await store.readStream(missing)).toEqual([]);
      });

      it('gives strictly increasing positions across streams', async () => {
        const streams = [uniqueStream('order-a'), uniqueStream('order-b'), uniqueStream('order-c')];
        const appendedIds: string[] = [];
        const results: AppendResult[] = [];

        for (const stream of [...streams, ...streams]) {
          const events = [newEvent(), newEvent()];
          appendedIds.push(...events.map((event) => event.id));
          results.push(await store.appendToStream(stream, events, 'any'));
        }

        expectStrictlyIncreasing(results.map((result) => result.position));
        const stored = (await Promise.all(streams.map((stream) => store.readStream(stream)))).flat();
        const positionById = new Map(stored.map((event) => [event.id, event.position]));
        expectStrictlyIncreasing(appendedIds.map((id) => positionById.get(id) ?? -1n));
      });

      it('lets exactly one of concurrent appends with one expected revision win', async () => {
        const stream = uniqueStream('race');
        await store.appendToStream(stream, [newEvent()], 'no_stream');

        const results = await Promise.allSettled(
          Array.from({ length: 5 }, () => store.appendToStream(stream, [newEvent()], 0n)),
        );

        const winners = results.filter((result) => result.status === 'fulfilled');
        const losers = results.filter((result) => result.status === 'rejected');
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(4);
        for (const loser of losers) {
          expect(loser.reason).toBeInstanceOf(WrongExpectedRevisionError);
          expect((loser.reason as WrongExpectedRevisionError).actual).toBe(1n);
        }
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it("lets exactly one of concurrent 'no_stream' appends create the stream", async () => {
        const stream = uniqueStream('race-create');

        const results = await Promise.allSettled(
          Array.from({ length: 5 }, () => store.appendToStream(stream, [newEvent()], 'no_stream')),
        );

        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        const losers = results.filter((result) => result.status === 'rejected');
        expect(losers.every((loser) => loser.reason instanceof WrongExpectedRevisionError)).toBe(true);
        expect(await store.readStream(stream)).toHaveLength(1);
      });

      it('writes 50 concurrent appends to different streams', async () => {
        const streams = Array.from({ length: 50 }, (_, index) => uniqueStream(`parallel-${index}`));

        const results = await Promise.all(streams.map((stream) => store.appendToStream(stream, [newEvent()], 'no_stream')));

        expect(results.every((result) => result.nextExpectedRevision === 0n)).toBe(true);
        expect(new Set(results.map((result) => result.position)).size).toBe(50);
        const stored = await Promise.all(streams.map((stream) => store.readStream(stream)));
        stored.forEach((events, index) => {
          expect(events).toHaveLength(1);
          expect(events[0]?.position).toBe(results[index]?.position);
        });
      });

      it('round-trips event fields and data exactly', async () => {
        const stream = uniqueStream('round-trip');
        const event: NewEvent = {
          id: randomUUID(),
          type: 'OrderCreated',
          data: sampleData(),
          metadata: { correlation_id: randomUUID(), causation_id: randomUUID(), occurred_at: '2024-02-29T23:59:59.999Z' },
        };
        const before = Date.now();

        await store.appendToStream(stream, [event], 'no_stream');

        const [stored] = await store.readStream(stream);
        expect(stored?.id).toBe(event.id);
        expect(stored?.streamId).toBe(stream);
        expect(stored?.type).toBe('OrderCreated');
        expect(stored?.revision).toBe(0n);
        expect(stored?.data).toStrictEqual(sampleData());
        expect(stored?.metadata).toStrictEqual(event.metadata);
        expect(stored?.recordedAt).toBeInstanceOf(Date);
        // An hour either side allows for a shared server whose clock differs from this machine's.
        expect(Math.abs((stored?.recordedAt.getTime() ?? 0) - before)).toBeLessThan(60 * 60 * 1000);
      });

      it('accepts unusual characters in stream names', async () => {
        const stream = `contract weird/strëam ✓ %_'"\\-${randomUUID()}`;

        await store.appendToStream(stream, [newEvent()], 'no_stream');

        const [stored] = await store.readStream(stream);
        expect(stored?.streamId).toBe(stream);
      });
    });

    describe('readStream', () => {
      let stream: string;
      let ids: string[];

      beforeAll(async () => {
        stream = uniqueStream('read');
        const events = Array.from({ length: 5 }, () => newEvent());
        ids = events.map((event) => event.id);
        await store.appendToStream(stream, events, 'no_stream');
      });

      it('reads forwards by default', async () => {
        const events = await store.readStream(stream);

        expect(events.map((event) => event.id)).toEqual(ids);
        expect(events.map((event) => event.revision)).toEqual([0n, 1n, 2n, 3n, 4n]);
      });

      it('reads backwards from the last event', async () => {
        const events = await store.readStream(stream, { direction: 'backwards' });

        expect(events.map((event) => event.id)).toEqual([...ids].reverse());
      });

      it('reads forwards from a revision, inclusive', async () => {
        const events = await store.readStream(stream, { fromRevision: 2n });

        expect(events.map((event) => event.revision)).toEqual([2n, 3n, 4n]);
      });

      it('reads backwards from a revision, inclusive', async () => {
        const events = await store.readStream(stream, { direction: 'backwards', fromRevision: 2n });

        expect(events.map((event) => event.revision)).toEqual([2n, 1n, 0n]);
      });

      it('limits forwards reads to maxCount', async () => {
        const events = await store.readStream(stream, { fromRevision: 1n, maxCount: 2 });

        expect(events.map((event) => event.revision)).toEqual([1n, 2n]);
      });

      it('limits backwards reads to maxCount', async () => {
        const events = await store.readStream(stream, { direction: 'backwards', maxCount: 2 });

        expect(events.map((event) => event.revision)).toEqual([4n, 3n]);
      });

      it('reads past the end as empty', async () => {
        expect(await store.readStream(stream, { fromRevision: 5n })).toEqual([]);
      });

      it('reads an unknown stream as empty', async () => {
        const missing = uniqueStream('missing');

        expect(await store.readStream(missing)).toEqual([]);
        expect(await store.readStream(missing, { direction: 'backwards' })).toEqual([]);
        expect(await store.readStream(missing, { fromRevision: 3n, maxCount: 10 })).toEqual([]);
      });
    });

    describe('readAll and headPosition', () => {
      it('reads strictly after a position', async () => {
        const streamA = uniqueStream('all-a');
        const streamB = uniqueStream('all-b');
        const first = await store.appendToStream(streamA, [newEvent()], 'no_stream');
        const later = [newEvent(), newEvent()];
        await store.appendToStream(streamB, later.slice(0, 1), 'no_stream');
        await store.appendToStream(streamA, later.slice(1), 0n);

        const events = await store.readAll({ after: first.position, maxCount: 1000 });

        expect(events.every((event) => event.position > first.position)).toBe(true);
        expectStrictlyIncreasing(events.map((event) => event.position));
        const ours = events.filter((event) => event.streamId === streamA || event.streamId === streamB);
        expect(ours.map((event) => event.id)).toEqual(later.map((event) => event.id));
      });

      it('limits readAll to maxCount', async () => {
        const before = await store.headPosition();
        const stream = uniqueStream('all-max');
        await store.appendToStream(stream, [newEvent(), newEvent(), newEvent()], 'no_stream');

        const events = await store.readAll({ after: before, maxCount: 2 });

        expect(events).toHaveLength(2);
      });

      it('filters readAll by stream prefix', async () => {
        const before = await store.headPosition();
        const matching = uniqueStream('prefix-matching');
        const other = uniqueStream('prefix-other');
        const alsoMatching = uniqueStream('prefix-also');
        const expected = [newEvent(), newEvent(), newEvent()];
        await store.appendToStream(matching, [expected[0]!], 'no_stream');
        await store.appendToStream(other, [newEvent(), newEvent()], 'no_stream');
        await store.appendToStream(alsoMatching, [expected[1]!], 'no_stream');
        await store.appendToStream(matching, [expected[2]!], 0n);

        const events = await store.readAll({ after: before, maxCount: 1000, streamPrefixes: [matching, alsoMatching] });
        const firstTwo = await store.readAll({ after: before, maxCount: 2, streamPrefixes: [matching, alsoMatching] });

        expect(events.map((event) => event.id)).toEqual(expected.map((event) => event.id));
        expect(firstTwo.map((event) => event.id)).toEqual(expected.slice(0, 2).map((event) => event.id));
      });

      it('reads from the start of the log without after', async () => {
        const stream = uniqueStream('all-start');
        const appended = await store.appendToStream(stream, [newEvent()], 'no_stream');

        const events = await store.readAll({ maxCount: 3 });

        expect(events.length).toBeGreaterThan(0);
        expect(events[0]?.position).toBeLessThanOrEqual(appended.position);
        expectStrictlyIncreasing(events.map((event) => event.position));
      });

      it('reports the newest position as head', async () => {
        const before = await store.headPosition();
        const stream = uniqueStream('head');

        const appended = await store.appendToStream(stream, [newEvent(), newEvent()], 'no_stream');
        const head = await store.headPosition();

        if (before !== undefined) expect(before).toBeLessThan(appended.position);
        expect(head).toBeDefined();
        expect(head).toBeGreaterThanOrEqual(appended.position);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up on stored events, then delivers live ones', async () => {
        const before = await store.headPosition();
        const stream = uniqueStream('sub-live');
        const stored = [newEvent(), newEvent(), newEvent()];
        await store.appendToStream(stream, stored, 'no_stream');
        const reader = subscribe({ after: before, streamPrefixes: [stream] });

        const caughtUp = await reader.take(3);
        const live = [newEvent(), newEvent()];
        await store.appendToStream(stream, live, 2n);
        const delivered = await reader.take(2);

        expect(caughtUp.map((event) => event.id)).toEqual(stored.map((event) => event.id));
        expect(delivered.map((event) => event.id)).toEqual(live.map((event) => event.id));
        expect(delivered.map((event) => event.revision)).toEqual([3n, 4n]);
      });

      it('delivers from the start of the log without after', async () => {
        const stream = uniqueStream('sub-start');
        const events = [newEvent(), newEvent()];
        await store.appendToStream(stream, events, 'no_stream');

        const delivered = await subscribe({ streamPrefixes: [stream] }).take(2);

        expect(delivered.map((event) => event.id)).toEqual(events.map((event) => event.id));
      });

      it('starts strictly after the given position', async () => {
        const stream = uniqueStream('sub-after');
        const events = [newEvent(), newEvent(), newEvent()];
        await store.appendToStream(stream, events, 'no_stream');
        const stored = await store.readStream(stream);

        const [first] = await subscribe({ after: stored[1]?.position, streamPrefixes: [stream] }).take(1);

        expect(first?.id).toBe(events[2]?.id);
      });

      it('delivers only streams with a matching prefix', async () => {
        const base = `contract-prefix-${randomUUID()}`;
        const before = await store.headPosition();
        const reader = subscribe({ after: before, streamPrefixes: [`${base}-alpha`, `${base}%_`] });

        // Each excluded name would match if the prefix were a LIKE pattern or compared without case.
        const excluded = [`${base}-beta-1`, `${base}xy-1`, `${base}-ALPHA-1`, `x${base}-alpha-1`];
        const included = [`${base}-alpha-1`, `${base}-alpha`, `${base}%_-1`];
        for (const stream of [...excluded, ...included]) {
          await store.appendToStream(stream, [newEvent()], 'no_stream');
        }
        const sentinel = newEvent();
        await store.appendToStream(`${base}-alpha-last`, [sentinel], 'no_stream');

        const delivered = await reader.take(4);

        expect(delivered.map((event) => event.streamId)).toEqual([...included, `${base}-alpha-last`]);
        expect(delivered[3]?.id).toBe(sentinel.id);
      });

      it('delivers each event once and in order while appends continue', async () => {
        const before = await store.headPosition();
        const streams = [uniqueStream('sub-once-a'), uniqueStream('sub-once-b')];
        const prefixes = streams;
        const expectedIds: string[] = [];
        const appendTo = async (stream: string, count: number): Promise<void> => {
          const events = Array.from({ length: count }, () => newEvent());
          expectedIds.push(...events.map((event) => event.id));
          await store.appendToStream(stream, events, 'any');
        };
        await appendTo(streams[0] ?? '', 5);
        const reader = subscribe({ after: before, streamPrefixes: prefixes });

        const delivered = await reader.take(2);
        await appendTo(streams[1] ?? '', 3);
        delivered.push(...(await reader.take(4)));
        await Promise.all([appendTo(streams[0] ?? '', 2), appendTo(streams[1] ?? '', 2)]);
        delivered.push(...(await reader.take(6)));

        // A duplicate or a re-read would arrive before the sentinel.
        const sentinel = newEvent();
        await store.appendToStream(streams[1] ?? '', [sentinel], 'any');
        const [next] = await reader.take(1);

        expect(next?.id).toBe(sentinel.id);
        expect(new Set(delivered.map((event) => event.id)).size).toBe(delivered.length);
        expect([...delivered.map((event) => event.id)].sort()).toEqual([...expectedIds].sort());
        expectStrictlyIncreasing(delivered.map((event) => event.position));
      });

      it('keeps order over a long catch-up', async () => {
        const before = await store.headPosition();
        const stream = uniqueStream('sub-long');
        const ids: string[] = [];
        for (let batch = 0; batch < 12; batch += 1) {
          const events = Array.from({ length: 100 }, () => newEvent());
          ids.push(...events.map((event) => event.id));
          await store.appendToStream(stream, events, 'any');
        }

        const delivered = await subscribe({ after: before, streamPrefixes: [stream] }).take(1200, 30_000);

        expect(delivered.map((event) => event.id)).toEqual(ids);
        expect(delivered.map((event) => event.revision)).toEqual(ids.map((_, index) => BigInt(index)));
      });

      it('serves several subscriptions at once', async () => {
        const before = await store.headPosition();
        const stream = uniqueStream('sub-many');
        const other = uniqueStream('sub-many-other');
        const readers = [0, 1, 2].map(() => subscribe({ after: before, streamPrefixes: [stream] }));
        const otherReader = subscribe({ after: before, streamPrefixes: [other] });
        const events = [newEvent(), newEvent(), newEvent()];

        await store.appendToStream(stream, events.slice(0, 1), 'no_stream');
        await store.appendToStream(other, [newEvent()], 'no_stream');
        await store.appendToStream(stream, events.slice(1), 0n);
        const deliveries = await Promise.all(readers.map((reader) => reader.take(3)));
        const [otherEvent] = await otherReader.take(1);

        for (const delivered of deliveries) {
          expect(delivered.map((event) => event.id)).toEqual(events.map((event) => event.id));
        }
        expect(otherEvent?.streamId).toBe(other);
      });

      it('ends a waiting iteration when closed', async () => {
        const stream = uniqueStream('sub-close-waiting');
        await store.appendToStream(stream, [newEvent()], 'no_stream');
        const reader = subscribe({ streamPrefixes: [stream] });
        await reader.take(1);

        const waiting = reader.iterator.next();
        await reader.subscription.close();

        const result = await withDeadline(waiting, PROMPT_CLOSE_MS, 'waiting next() did not settle after close()');
        expect(result.done).toBe(true);
      });

      it('ends a for-await loop closed by its consumer', async () => {
        const stream = uniqueStream('sub-close-loop');
        await store.appendToStream(stream, [newEvent(), newEvent(), newEvent()], 'no_stream');
        const subscription = store.subscribeToAll({ streamPrefixes: [stream] });
        openSubscriptions.push(subscription);

        const consume = async (): Promise<RecordedEvent[]> => {
          const received: RecordedEvent[] = [];
          for await (const event of subscription) {
            received.push(event);
            if (received.length === 2) await subscription.close();
          }
          return received;
        };
        const received = await withDeadline(consume(), PROMPT_CLOSE_MS, 'iteration did not end after close()');

        expect(received).toHaveLength(2);
      });

      it('ends at once when closed before iterating', async () => {
        const stream = uniqueStream('sub-close-early');
        await store.appendToStream(stream, [newEvent()], 'no_stream');
        const reader = subscribe({ streamPrefixes: [stream] });

        await reader.subscription.close();

        const result = await withDeadline(reader.iterator.next(), PROMPT_CLOSE_MS, 'next() did not settle after close()');
        expect(result.done).toBe(true);
      });
    });
  });
}

/** Pulls events from one subscription through a single iterator, failing after a deadline. */
class SubscriptionReader {
  readonly iterator: AsyncIterator<RecordedEvent>;

  constructor(readonly subscription: AllSubscription) {
    this.iterator = subscription[Symbol.asyncIterator]();
  }

  async take(count: number, timeoutMs = 10_000): Promise<RecordedEvent[]> {
    const deadline = Date.now() + timeoutMs;
    const events: RecordedEvent[] = [];
    while (events.length < count) {
      const remaining = Math.max(deadline - Date.now(), 0);
      const result = await withDeadline(
        this.iterator.next(),
        remaining,
        `subscription delivered ${events.length} of ${count} events within ${timeoutMs} ms`,
      );
      if (result.done === true) throw new Error(`subscription ended after ${events.length} of ${count} events`);
      events.push(result.value);
    }
    return events;
  }
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

async function expectWrongExpectedRevision(
  append: Promise<AppendResult>,
  streamId: string,
  actual: bigint | 'no_stream',
): Promise<void> {
  const error = await append.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(WrongExpectedRevisionError);
  expect((error as WrongExpectedRevisionError).streamId).toBe(streamId);
  expect((error as WrongExpectedRevisionError).actual).toBe(actual);
}

function expectStrictlyIncreasing(positions: readonly bigint[]): void {
  positions.slice(1).forEach((position, index) => {
    expect(position).toBeGreaterThan(positions[index] ?? -1n);
  });
}

function uniqueStream(label: string): string {
  return `contract_${label}-${randomUUID()}`;
}

function newEvent(data: JsonObject = { value: randomUUID() }): NewEvent {
  return { id: randomUUID(), type: 'ContractTested', data, metadata: { correlation_id: randomUUID() } };
}

/** Data that breaks naive serialisation: unicode, escapes, nesting, and numbers without exact binary forms. */
function sampleData(): JsonObject {
  return {
    text: 'Grüße, 世界 👋🏽 «ёлка» e\u0301',
    escapes: 'quote " backslash \\ newline \n tab \t nul \u0000',
    'ключ с пробелом': 'value',
    price: 19.99,
    sum: 0.1 + 0.2,
    negative: -42.5,
    zero: 0,
    maxSafe: Number.MAX_SAFE_INTEGER,
    tiny: 5e-324,
    huge: 1.7976931348623157e308,
    flag: false,
    nothing: null,
    empty: '',
    emptyObject: {},
    list: [1, 'two', { three: [3, [4]] }, [], null],
    nested: { a: { b: { c: { d: 'deep', e: [true] } } } },
  };
}
