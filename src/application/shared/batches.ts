const NOTHING_READY = Symbol('nothing ready');

/**
 * Groups an async iterable into batches of up to `maxSize` items: a batch closes when it is
 * full or when no further item is ready without waiting, so a burst is handled in few large
 * batches while a single live item goes out at once.
 */
export async function* readBatches<T>(source: AsyncIterable<T>, maxSize: number): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  let pending = iterator.next();

  for (;;) {
    const first = await pending;
    if (first.done === true) return;
    const batch = [first.value];
    pending = iterator.next();

    while (batch.length < maxSize) {
      const next = await Promise.race([pending, nextMacrotask()]);
      if (next === NOTHING_READY) break;
      if (next.done === true) {
        yield batch;
        return;
      }
      batch.push(next.value);
      pending = iterator.next();
    }
    yield batch;
  }
}

function nextMacrotask(): Promise<typeof NOTHING_READY> {
  return new Promise((resolve) => setImmediate(() => resolve(NOTHING_READY)));
}
