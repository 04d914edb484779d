/** One measured quantity with the value of each run. */
export type Figure = {
  readonly name: string;
  readonly unit: string;
  readonly runs: readonly number[];
};

/** A scenario figure set against the baseline measured in the same invocation. */
export type Comparison = {
  readonly scenario: string;
  readonly baseline: string;
  /** Minimum ratio of the scenario's median to the baseline's median. */
  readonly target: number;
};

/** A figure whose median must stay at or below a fixed value, such as a p99 latency in ms. */
export type Limit = {
  readonly figure: string;
  readonly max: number;
};

/** A scenario this harness does not measure yet, listed in the report so its absence is visible. */
export type Unmeasured = {
  readonly name: string;
  readonly reason: string;
};

export type Summary = { readonly min: number; readonly median: number; readonly max: number };

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
  return { min: sorted[0] ?? NaN, median: median ?? NaN, max: sorted.at(-1) ?? NaN };
}

/** Collects figures by name, appending each run's value to the figure's list. */
export class FigureSet {
  private readonly figures = new Map<string, { unit: string; runs: number[] }>();

  record(name: string, unit: string, value: number): void {
    const figure = this.figures.get(name) ?? { unit, runs: [] };
    figure.runs.push(value);
    this.figures.set(name, figure);
  }

  get(name: string): Figure | undefined {
    const figure = this.figures.get(name);
    return figure === undefined ? undefined : { name, ...figure };
  }

  all(): Figure[] {
    return [...this.figures].map(([name, figure]) => ({ name, ...figure }));
  }
}

/** One step of `npm run bench`: what it measures, and how its figures compare with their baselines. */
export type BenchmarkStep = {
  /** Short name that `npm run bench -- --only=<key>` selects, e.g. `http`. */
  readonly key: string;
  readonly title: string;
  readonly run: (figures: FigureSet) => Promise<void>;
  readonly comparisons: readonly Comparison[];
  readonly limits?: readonly Limit[];
  /** Lines for the report's notes: the setup behind the figures. */
  readonly notes: readonly string[];
  readonly unmeasured?: readonly Unmeasured[];
};
