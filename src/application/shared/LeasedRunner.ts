import type { LeaseStore } from '../ports/LeaseStore';
import type { Logger } from '../ports/Logger';

/**
 * A worker that may run on one instance at a time. `start` may take long (a catch-up) and
 * should end soon after `signal` is aborted, which happens when the lease is given up; `stop`
 * is called after `start` has settled.
 */
export type LeasedTask = {
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
};

export type LeasedRunnerOptions = {
  /** Lease name shared by every instance, e.g. `projector`. */
  readonly name: string;
  /** This instance's id; unique per process. */
  readonly ownerId: string;
  /** How long a lease lasts without renewal: the longest handover after a holder dies. */
  readonly ttlMs: number;
};

/**
 * Runs a task only while this instance holds its lease. It tries to take the lease, renews it
 * every third of its TTL, and stops the task as soon as a renewal fails or is refused, so two
 * instances overlap at most until the old holder's next renewal attempt.
 */
export class LeasedRunner {
  private stopped = false;
  private holding = false;
  private running: Promise<void> | undefined;
  private startAborter: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly leases: LeaseStore,
    private readonly options: LeasedRunnerOptions,
    private readonly task: LeasedTask,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  isHolder(): boolean {
    return this.holding;
  }

  /** Stops the task and releases the lease so another instance takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
    if (this.holding) await this.giveUp('stopping');
  }

  private async run(): Promise<void> {
    const { name, ownerId, ttlMs } = this.options;

    while (!this.stopped) {
      try {
        if (!this.holding) {
          if (await this.leases.tryAcquire(name, ownerId, ttlMs)) {
            this.holding = true;
            this.logger.info({ lease: name, owner: ownerId }, 'lease acquired; starting worker');
            this.startAborter = new AbortController();
            this.running = this.task.start(this.startAborter.signal).catch((error: unknown) => {
              this.logger.error({ err: error, lease: name }, 'leased worker failed to start');
            });
          }
        } else if (!(await this.leases.renew(name, ownerId, ttlMs))) {
          await this.giveUp('lease taken over by another instance');
        }
      } catch (error) {
        this.logger.warn({ err: error, lease: name, owner: ownerId }, 'lease operation failed');
        if (this.holding) await this.giveUp('lease could not be renewed');
      }
      await this.sleep(Math.max(1, Math.floor(ttlMs / 3)));
    }
  }

  private async giveUp(reason: string): Promise<void> {
    const { name, ownerId } = this.options;
    this.holding = false;
    const context = { lease: name, owner: ownerId, reason };
    if (this.stopped) this.logger.info(context, 'stopping leased worker');
    else this.logger.warn(context, 'stopping leased worker');
    this.startAborter?.abort();
    await this.running;
    await this.task.stop();
    try {
      await this.leases.release(name, ownerId);
    } catch (error) {
      this.logger.warn({ err: error, lease: name, owner: ownerId }, 'failed to release lease; it expires by itself');
    }
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
