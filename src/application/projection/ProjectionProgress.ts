/**
 * Tracks the projector's checkpoint inside this process, so a command can wait until the
 * events it appended are in the read models before it responds (read-your-writes).
 */
export interface ProjectionWaiter {
  /** Resolves true once the checkpoint reaches `position`, or false after `timeoutMs`. */
  waitFor(position: bigint, timeoutMs: number): Promise<boolean>;
  /** The last position the projector applied; undefined before its first batch. */
  current(): bigint | undefined;
}

type Waiter = { readonly position: bigint; readonly resolve: (reached: boolean) => void };

export class ProjectionProgress implements ProjectionWaiter {
  private checkpoint: bigint | undefined;
  private waiters: Waiter[] = [];

  current(): bigint | undefined {
    return this.checkpoint;
  }

  advance(position: bigint): void {
    if (this.checkpoint !== undefined && position <= this.checkpoint) return;
    this.checkpoint = position;

    const reached = this.waiters.filter((waiter) => waiter.position <= position);
    this.waiters = this.waiters.filter((waiter) => waiter.position > position);
    for (const waiter of reached) waiter.resolve(true);
  }

  /** Forgets the checkpoint, for a rebuild that replays the log from the start. */
  reset(): void {
    this.checkpoint = undefined;
  }

  waitFor(position: bigint, timeoutMs: number): Promise<boolean> {
    if (this.checkpoint !== undefined && this.checkpoint >= position) return Promise.resolve(true);

    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== entry);
        resolve(false);
      }, timeoutMs);
      const entry: Waiter = {
        position,
        resolve: (reached) => {
          clearTimeout(timer);
          resolve(reached);
        },
      };
      this.waiters.push(entry);
    });
  }
}
