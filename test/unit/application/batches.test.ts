import { readBatches } from '../../../src/application/shared/batches';

/** An async iterable fed by the test, standing in for a live subscription. */
class Channel<T> implements AsyncIterable<T> {
  private readonly queued: IteratorResult<T>[] = [];
  private failure: Error | undefined;
  private waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: Error) => void } | undefined;

  push(value: T): void {
    this.deliver({ done: false, value });
  }

  end(): void {
    this.deliver({ done: true, value: undefined });
  }

  fail(error: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting === undefined) this.failure = error;
    else waiting.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const queued = this.queued.shift();
        if (queued !== undefined) return Promise.resolve(queued);
        if (this.failure !== undefined) return Promise.reject(this.failure);
        return new Promise((resolve, reject) => {
          this.waiting = { resolve, reject };
        });
      },
    };
  }

  private deliver(result: IteratorResult<T>): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting === undefined) this.queued.push(result);
    else waiting.resolve(result);
  }
}

const TIMED_OUT = Symbol('timed out');

/** Resolves with the promise's value, or TIMED_OUT when it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Yields every item without waiting for anything outside the microtask queue. */
async function* fromItems<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield await Promise.resolve(item);
}

async function* failingAfter<T>(items: readonly T[], error: Error): AsyncGenerator<T> {
  yield* fromItems(items);
  throw error;
}

async function collect<T>(batches: AsyncIterable<T[]>): Promise<T[][]> {
  const collected: T[][] = [];
  for await (const batch of batches) collected.push(batch);
  return collected;
}

describe('readBatches', () => {
  it('groups ready items together', async () => {
    expect(await collect(readBatches(fromItems([1, 2, 3, 4, 5]), 10))).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('respects maxSize', async () => {
    expect(await collect(readBatches(fromItems([1, 2, 3, 4, 5]), 2))).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('accepts maxSize of one', async () => {
    expect(await collect(readBatches(fromItems(['a', 'b']), 1))).toEqual([['a'], ['b']]);
  });

  it('yields lone live item immediately', async () => {
    const channel = new Channel<number>();
    const batches = readBatches(channel, 10);

    channel.push(1);

    expect(await within(batches.next(), 5000)).toEqual({ done: false, value: [1] });
    channel.end();
  });

  it('batches a live burst', async () => {
    const channel = new Channel<number>();
    const batches = readBatches(channel, 10);
    channel.push(1);
    expect(await within(batches.next(), 5000)).toEqual({ done: false, value: [1] });

    channel.push(2);
    channel.push(3);
    channel.push(4);

    expect(await within(batches.next(), 5000)).toEqual({ done: false, value: [2, 3, 4] });
    channel.end();
  });

  it('ends with empty source', async () => {
    expect(await collect(readBatches(fromItems([]), 10))).toEqual([]);
  });

  it('ends when live source ends', async () => {
    const channel = new Channel<number>();
    const batches = readBatches(channel, 10);
    channel.push(1);
    expect(await within(batches.next(), 5000)).toEqual({ done: false, value: [1] });

    channel.end();

    expect(await within(batches.next(), 5000)).toEqual({ done: true, value: undefined });
  });

  it('flushes partial batch on end', async () => {
    const channel = new Channel<number>();
    channel.push(1);
    channel.push(2);
    channel.end();

    expect(await collect(readBatches(channel, 10))).toEqual([[1, 2]]);
  });

  it('propagates source error', async () => {
    const failure = new Error('subscription dropped');

    await expect(collect(readBatches(failingAfter([1, 2], failure), 10))).rejects.toBe(failure);
  });

  it('propagates immediate source error', async () => {
    const failure = new Error('cannot subscribe');

    await expect(collect(readBatches(failingAfter([], failure), 10))).rejects.toBe(failure);
  });

  it('propagates live source error', async () => {
    const channel = new Channel<number>();
    const failure = new Error('connection lost');
    const batches = readBatches(channel, 10);
    channel.push(1);
    expect(await within(batches.next(), 5000)).toEqual({ done: false, value: [1] });

    channel.fail(failure);

    await expect(batches.next()).rejects.toBe(failure);
  });

  it.each([
    ['a partial', 10],
    ['a full', 2],
  ])('handles error after %s batch', async (_case, maxSize) => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    const channel = new Channel<number>();
    const failure = new Error('connection lost while the batch was handled');
    const batches = readBatches(channel, maxSize);
    channel.push(1);
    channel.push(2);

    try {
      expect(await within(batches.next(), 5000)).toEqual({ done: false, value: [1, 2] });
      channel.fail(failure);
      // The consumer is still busy with the batch: let Node's rejection tracking run first.
      await new Promise((resolve) => setTimeout(resolve, 20));

      expect(unhandled).toEqual([]);
      await expect(batches.next()).rejects.toBe(failure);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('handles error after consumer stops', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    const channel = new Channel<number>();
    channel.push(1);
    channel.push(2);

    try {
      for await (const batch of readBatches(channel, 2)) {
        expect(batch).toEqual([1, 2]);
        break;
      }
      channel.fail(new Error('subscription closed after the consumer stopped'));
      await new Promise((resolve) => setTimeout(resolve, 20));

      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
