import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { summarize, type Comparison, type FigureSet, type Limit, type Unmeasured } from './figures';

export const BENCHMARKS_FILE = path.resolve(__dirname, '..', '..', 'BENCHMARKS.md');

export type ReportInput = {
  readonly figures: FigureSet;
  readonly comparisons: readonly Comparison[];
  readonly limits: readonly Limit[];
  readonly unmeasured: readonly Unmeasured[];
  readonly notes: readonly string[];
  readonly startedAt: Date;
  readonly durationMs: number;
  /** From `describeCommit`, taken when the run starts, because the working tree may change while it runs. */
  readonly commit: string;
  /** `os.loadavg()` when the run started, to show whether other processes shared the machine. */
  readonly loadAverageAtStart: readonly number[];
};

/** Appends one dated section with the machine, the commit and every figure to BENCHMARKS.md. */
export function appendReport(input: ReportInput): string {
  const section = renderSection(input);
  if (!existsSync(BENCHMARKS_FILE)) {
    writeFileSync(
      BENCHMARKS_FILE,
      '# Benchmarks\n\nEach section is one run of `npm run bench` (see bench/README.md), appended by the harness itself.\n',
    );
  }
  appendFileSync(BENCHMARKS_FILE, section);
  return section;
}

export function renderSection(input: ReportInput): string {
  const lines: string[] = [];
  lines.push('', `## ${input.startedAt.toISOString()}`, '');
  lines.push(`- Commit: ${input.commit}`);
  lines.push(`- Machine: ${machineDescription()}`);
  lines.push(`- Node: ${process.version}`);
  lines.push(`- Command: \`${commandLine()}\``);
  lines.push(`- Wall-clock time of the run: ${(input.durationMs / 1000).toFixed(0)} s`);
  lines.push(`- Load average (1, 5, 15 min) at start: ${formatLoad(input.loadAverageAtStart)}; at end: ${formatLoad(os.loadavg())}`);
  for (const note of input.notes) lines.push(`- ${note}`);

  lines.push('', '| Figure | Unit | Runs | Min | Median | Max |', '|---|---|---|---|---|---|');
  for (const figure of input.figures.all()) {
    const { min, median, max } = summarize(figure.runs);
    lines.push(`| ${figure.name} | ${figure.unit} | ${figure.runs.length} | ${format(min)} | ${format(median)} | ${format(max)} |`);
  }

  lines.push('', 'Ratios compare medians measured in this run.', '');
  lines.push('| Scenario | Baseline | Ratio | Target | Result |', '|---|---|---|---|---|');
  for (const comparison of input.comparisons) lines.push(renderComparison(input.figures, comparison));

  if (input.limits.length > 0) {
    lines.push('', 'Limits apply to the median of the runs.', '');
    lines.push('| Figure | Median | Limit | Result |', '|---|---|---|---|');
    for (const limit of input.limits) lines.push(renderLimit(input.figures, limit));
  }

  if (input.unmeasured.length > 0) {
    lines.push('', 'Not measured yet:', '');
    for (const { name, reason } of input.unmeasured) lines.push(`- ${name}: ${reason}`);
  }
  return `${lines.join('\n')}\n`;
}

function renderComparison(figures: FigureSet, { scenario, baseline, target }: Comparison): string {
  const scenarioFigure = figures.get(scenario);
  const baselineFigure = figures.get(baseline);
  if (scenarioFigure === undefined || baselineFigure === undefined) {
    return `| ${scenario} | ${baseline} | – | ≥ ${target} | not measured (a run failed; see the log) |`;
  }
  const ratio = summarize(scenarioFigure.runs).median / summarize(baselineFigure.runs).median;
  const result = ratio >= target ? 'met' : `missed by ${(target - ratio).toFixed(2)} (${(((target - ratio) / target) * 100).toFixed(0)} % below target); see the analysis at the top of this file`;
  return `| ${scenario} | ${baseline} | ${ratio.toFixed(2)} | ≥ ${target} | ${result} |`;
}

function renderLimit(figures: FigureSet, { figure, max }: Limit): string {
  const measured = figures.get(figure);
  if (measured === undefined) return `| ${figure} | – | ≤ ${format(max)} | not measured (a run failed; see the log) |`;
  const { median } = summarize(measured.runs);
  const result = median <= max ? 'met' : `missed by ${format(median - max)} ${measured.unit}; see the analysis at the top of this file`;
  return `| ${figure} | ${format(median)} | ≤ ${format(max)} | ${result} |`;
}

function formatLoad(loadAverage: readonly number[]): string {
  return loadAverage.map((value) => value.toFixed(2)).join(', ');
}

function format(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(2);
}

/** Returns the checked-out commit, marked when the working tree has uncommitted changes. */
export function describeCommit(): string {
  try {
    const root = path.dirname(BENCHMARKS_FILE);
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch (error) {
    return `unknown (git rev-parse failed: ${error instanceof Error ? error.message : String(error)})`;
  }
}

function machineDescription(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  const memoryGiB = (os.totalmem() / 1024 ** 3).toFixed(1);
  return `${cpus.length} logical cores, ${model}, ${memoryGiB} GiB memory, ${os.platform()} ${os.release()}`;
}

function commandLine(): string {
  const script = process.env.npm_lifecycle_event === 'bench' ? process.env.npm_lifecycle_script : undefined;
  const direct = `node ${process.argv.slice(1).map((argument) => path.relative(process.cwd(), argument) || argument).join(' ')}`;
  return script === undefined ? direct : `npm run bench (${script})`;
}
