import type { AllSubscription, EventStore, RecordedEvent } from '../ports/EventStore';
import type { Logger } from '../ports/Logger';
import { Backoff, type BackoffOptions } from './Backoff';
import { readBatches } from './batches';

export type SubscriptionWorkerOptions = {
  /** Name used in logs and health reports, e.g. `projector`. */
  readonly name: string;
  readonly streamPrefixes: readonly string[];
  readonly maxBatchSize: number;
  readonly retry: BackoffOptions;
  /** Position to resume after; read again before every (re)subscription. */
  readonly loadCheckpoint: () => Promise<bigint | undefined>;
  /** Handles events in log order; the checkpoint must be stored by the time it resolves. */
  readonly handleBatch: (events: readonly RecordedEvent[]) => Promise<void>;
};

export type SubscriptionWorkerStatus = {
  readonly state: 'running' | 'retrying' | 'stopped';
  readonly consecutiveFailures: number;
  readonly lastError: string | undefined;
  readonly resubscriptions: number;
};

/**
 * Runs one catch-up subscription to `$all` for the lifetime of the process: subscribes after
 * the stored checkpoint, hands events over in batches, and after any failure or unexpected end
 * resubscribes from the checkpoint with backoff. There is exactly one such loop per worker.
 */
export class SubscriptionWorker {
  private stopped = false;
  private subscription: AllSubscription | undefined;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private status: SubscriptionWorkerStatus = { state: 'stopped', consecutiveFailures: 0, lastError: undefined, resubscriptions: 0 };

  constructor(
    private readonly eventStore: EventStore,
    private readonly options: SubscriptionWorkerOptions,
    private readonly logger: Logger,
  ) {}

  /** Starts the loop; after `stop` it may be started again (a lease taken back, say). */
  start(): void {
    if (this.loop !== undefined) return;
    this.stopped = false;
    this.logger.info({ worker: this.options.name }, 'subscription worker starting');
    this.loop = this.run();
  }

  /** Stops the loop; a batch being handled finishes first. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.subscription?.close();
    await this.loop;
    this.loop = undefined;
    this.status = { ...this.status, state: 'stopped' };
    this.logger.info({ worker: this.options.name }, 'subscription worker stopped');
  }

  currentStatus(): SubscriptionWorkerStatus {
    return this.status;
  }

  private async run(): Promise<void> {
    const { name, streamPrefixes, maxBatchSize, loadCheckpoint, handleBatch } = this.options;
    const backoff = new Backoff(this.options.retry);

    while (!this.stopped) {
      try {
        const after = await loadCheckpoint();
        this.subscription = this.eventStore.subscribeToAll({ after, streamPrefixes });
        this.status = { ...this.status, state: 'running' };
        this.logger.info({ worker: name, after: after?.toString() }, 'subscribed to $all');

        for await (const batch of readBatches(this.subscription, maxBatchSize)) {
          await handleBatch(batch);
          backoff.reset();
          this.status = { ...this.status, consecutiveFailures: 0, lastError: undefined };
        }
        if (this.stopped) break;
        this.logger.warn({ worker: name }, 'subscription ended unexpectedly; resubscribing');
        this.markFailure('subscription ended');
      } catch (error) {
        if (this.stopped) break;
        this.logger.warn({ worker: name, err: error, attempt: backoff.attempts + 1 }, 'subscription worker failed; retrying');
        this.markFailure(error instanceof Error ? error.message : String(error));
      } finally {
        await this.closeSubscription();
      }

      if (!this.stopped) await this.sleep(backoff.nextDelayMs());
    }
  }

  private markFailure(reason: string): void {
    this.status = {
      state: 'retrying',
      consecutiveFailures: this.status.consecutiveFailures + 1,
      lastError: reason,
      resubscriptions: this.status.resubscriptions + 1,
    };
  }

  private async closeSubscription(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    try {
      await subscription?.close();
    } catch (error) {
      this.logger.warn({ worker: this.options.name, err: error }, 'failed to close subscription');
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
