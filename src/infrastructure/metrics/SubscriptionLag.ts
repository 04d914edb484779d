import type { EventStore } from '../../application/ports/EventStore';

/** Events read per page while looking for the next event a worker has to handle. */
const SCAN_PAGE_SIZE = 1000;

/** Pages read per measurement at most, so that one scrape's cost stays bounded however far behind a worker is. */
const MAX_SCAN_PAGES = 10;

export type LagReading = {
  /** Head position minus the worker's effective position: the last position before its next event. */
  readonly positions: bigint;
  /** The worker's events after its checkpoint, counted in one page of at most 1000 log events, so it saturates there. */
  readonly events: number;
  /** Age of the oldest event the worker has still to handle; 0 when it has none. */
  readonly seconds: number;
};

/**
 * Measures how far a subscription worker is behind the log. A worker subscribes with a
 * stream-prefix filter, so its checkpoint stays at its own last event while other streams grow
 * the log: head minus checkpoint would then report a lag that never shrinks. This scans the
 * log after the checkpoint for the worker's next event instead, and remembers how far it found
 * none, so a later measurement resumes there rather than at the checkpoint.
 */
export class SubscriptionLag {
  /** No event of this worker lies in (`checkpoint`, `position`]; valid while the checkpoint has not gone back. */
  private scanned: { readonly checkpoint: bigint; readonly position: bigint } | undefined;

  constructor(
    private readonly eventStore: EventStore,
    private readonly streamPrefixes: readonly string[],
    private readonly now: () => number = Date.now,
  ) {}

  async measure(checkpoint: bigint | undefined, head: bigint | undefined): Promise<LagReading> {
    // -1 stands for "before the first event", because a store may number that event 0.
    const start = checkpoint ?? -1n;
    if (head === undefined || start >= head) return { positions: 0n, events: 0, seconds: 0 };
    if (this.scanned !== undefined && start < this.scanned.checkpoint) this.scanned = undefined;

    let after = this.scanned !== undefined && this.scanned.position > start ? this.scanned.position : start;
    for (let page = 0; page < MAX_SCAN_PAGES; page++) {
      const events = await this.eventStore.readAll({ after: after < 0n ? undefined : after, maxCount: SCAN_PAGE_SIZE });
      const firstIndex = events.findIndex((event) => this.handles(event.streamId));

      if (firstIndex >= 0) {
        const before = firstIndex === 0 ? after : (events[firstIndex - 1]?.position ?? after);
        this.scanned = { checkpoint: start, position: before };
        const pending = events.slice(firstIndex).filter((event) => this.handles(event.streamId));
        const oldest = events[firstIndex]?.recordedAt.getTime() ?? this.now();
        return { positions: head - max(before, 0n), events: pending.length, seconds: Math.max(0, (this.now() - oldest) / 1000) };
      }

      after = events.at(-1)?.position ?? after;
      this.scanned = { checkpoint: start, position: after };
      if (events.length < SCAN_PAGE_SIZE) return { positions: 0n, events: 0, seconds: 0 };
    }

    // NOTE: the scan stopped before the head without finding one of the worker's events; the
    // next measurement continues from here. Until then the lag counts only the unscanned part.
    return { positions: head - max(after, 0n), events: 0, seconds: 0 };
  }

  private handles(streamId: string): boolean {
    return this.streamPrefixes.some((prefix) => streamId.startsWith(prefix));
  }
}

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
