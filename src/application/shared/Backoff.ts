export type BackoffOptions = {
  /** Delay before the first retry, in milliseconds. */
  readonly initialDelayMs: number;
  /** Upper bound of the delay, in milliseconds. */
  readonly maxDelayMs: number;
};

/** Exponential backoff with full jitter, so instances retrying together spread out. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {}

  get attempts(): number {
    return this.attempt;
  }

  nextDelayMs(): number {
    const ceiling = Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** this.attempt);
    this.attempt++;
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}
