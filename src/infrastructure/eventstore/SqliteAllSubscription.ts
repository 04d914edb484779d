import type { AllSubscription, RecordedEvent } from '../../application/ports/EventStore';

/**
 * A catch-up subscription over the events table. It reads one page at a time, and reads the
 * next only when the consumer has taken every event of the current one. When a page comes back
 * empty it waits for an append through this store or for the poll timer, then reads again.
 */
export class SqliteAllSubscription implements AllSubscription {
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
