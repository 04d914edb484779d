import type { Logger } from '../ports/Logger';
import type { ReadModelStore } from '../ports/ReadModelStore';
import type { ProjectionProgress, ProjectionWaiter } from './ProjectionProgress';

/** How often the stored checkpoint is read while any command waits for it, in milliseconds. */
const POLL_INTERVAL_MS = 10;

type Waiter = { readonly position: bigint; readonly resolve: (reached: boolean) => void; readonly timer: NodeJS.Timeout };

/**
 * Waits on the projector checkpoint stored with shared read models (MongoDB), so the result of a
 * command on one instance is visible on every instance's GET, whichever instance projects.
 * One polling loop serves all waiting commands, so a burst of requests costs one checkpoint
 * read per interval, not one per request. When this instance is the projector, its
 * in-process progress wakes the waiters without polling.
 */
export class CheckpointWaiter implements ProjectionWaiter {
  private waiters: Waiter[] = [];
  private polling = false;

  constructor(
    private readonly readModels: ReadModelStore,
    private readonly localProgress: ProjectionProgress,
    private readonly logger: Logger,
  ) {}

  current(): bigint | undefined {
    return this.localProgress.current();
  }

  waitFor(position: bigint, timeoutMs: number): Promise<boolean> {
    const local = this.localProgress.current();
    if (local !== undefined && local >= position) return Promise.resolve(true);

    return new Promise((resolve) => {
      const waiter: Waiter = {
        position,
        resolve,
        timer: setTimeout(() => this.settle((candidate) => candidate === waiter, false), timeoutMs),
      };
      this.waiters.push(waiter);
      void this.localProgress.waitFor(position, timeoutMs).then((reached) => {
        if (reached) this.settle((candidate) => candidate === waiter, true);
      });
      void this.poll();
    });
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      while (this.waiters.length > 0) {
        try {
          const checkpoint = await this.readModels.getCheckpoint();
          if (checkpoint !== undefined) this.settle((waiter) => waiter.position <= checkpoint, true);
        } catch (error) {
          this.logger.warn({ err: error, waiting: this.waiters.length }, 'failed to read the projector checkpoint; retrying');
        }
        if (this.waiters.length > 0) await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      }
    } finally {
      this.polling = false;
    }
  }

  private settle(matches: (waiter: Waiter) => boolean, reached: boolean): void {
    const settled = this.waiters.filter(matches);
    if (settled.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => !matches(waiter));
    for (const waiter of settled) {
      clearTimeout(waiter.timer);
      waiter.resolve(reached);
    }
  }
}
