const NOTHING_READY = Symbol('nothing ready');

/**
 * Groups an async iterable into batches of up to `maxSize` items: a batch closes when it is
 * full or when no further item is ready without waiting, so a burst is handled in few large
 * batches while a single live item goes out at once.
 */
export async function* readBatches<T>(source: AsyncIterable<T>, maxSize: number): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  let pending = nextResult(iterator);

  for (;;) {
    const first = await pending;
    if (first.done === true) return;
    const batch = [first.value];
    pending = nextResult(iterator);

    while (batch.length < maxSize) {
      const next = await Promise.race([pending, nextMacrotask()]);
      if (next === NOTHING_READY) break;
      if (next.done === true) {
        yield batch;
        return;
      }
      batch.push(next.value);
      pending = nextResult(iterator);
    }
    yield batch;
  }
}

/**
 * Starts the next read and marks its rejection as handled. The read stays outstanding while the
 * consumer handles a batch, or after the consumer stops early, and a failure in that window
 * would otherwise be an unhandled rejection that ends the process. Awaiting the returned
 * promise still throws the error.
 */
function nextResult<T>(iterator: AsyncIterator<T>): Promise<IteratorResult<T>> {
  const result = iterator.next();
  result.catch(() => undefined);
  return result;
}

function nextMacrotask(): Promise<typeof NOTHING_READY> {
  return new Promise((resolve) => setImmediate(() => resolve(NOTHING_READY)));
}
