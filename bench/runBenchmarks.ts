// Entry point of `npm run bench`: runs every baseline and scenario, 3 runs each, then appends a dated section to BENCHMARKS.md.
// `npm run bench -- --only=http,store` runs the named steps and prints their section without appending it.
import os from 'node:os';
import { loadConfig } from '../src/infrastructure/config/config';
import { FIGURE as BCRYPT, measureBcrypt } from './bcryptBenchmark';
import { FigureSet, type BenchmarkStep } from './figures';
import { CONNECTIONS, FIGURE as HTTP, measureEmbeddedStack, measureExpressBaselines, RUN_DURATION_MS } from './httpBenchmarks';
import { mongoStep } from './mongoBenchmarks';
import { relayStep } from './relayBenchmarks';
import { appendReport, BENCHMARKS_FILE, describeCommit, renderSection } from './report';
import { longRebuildStep, startupStep } from './startupBenchmarks';
import { FIGURE as STORE, measureStore, REBUILD_EVENTS } from './storeBenchmarks';

// The app's child process gets no BCRYPT_COST, so it uses the configured default, read here the same way.
const bcryptCost = loadConfig({}).bcryptCost;

const STEPS: readonly BenchmarkStep[] = [
  {
    key: 'http',
    title: 'Express baselines, bcrypt baseline and the embedded stack',
    run: async (figures) => {
      await measureExpressBaselines(figures);
      await measureBcrypt(figures, bcryptCost);
      await measureEmbeddedStack(figures, true);
    },
    comparisons: [
      { scenario: HTTP.createOrder, baseline: HTTP.baselinePost, target: 0.6 },
      { scenario: HTTP.readOrder, baseline: HTTP.baselineGet, target: 0.8 },
      { scenario: HTTP.registerUser, baseline: BCRYPT.bcrypt, target: 0.9 },
    ],
    notes: [
      `HTTP loads: ${CONNECTIONS} keep-alive connections from this process to a server in a child process, closed loop, ${RUN_DURATION_MS / 1000} s per run after a 1 s warm-up; p50 and p99 are latencies of successful requests.`,
      'The app runs as `node dist/src/main.js` with its defaults on the embedded store in a temporary DATA_DIR, projector and relay on, RabbitMQ in a vhost created and deleted by the run.',
      `bcrypt cost ${bcryptCost} (the configured default), libuv thread pool of the default size in both processes.`,
    ],
  },
  {
    key: 'store',
    title: 'event store and in-memory rebuild',
    run: measureStore,
    comparisons: [{ scenario: STORE.rebuild, baseline: STORE.sqliteReadParse, target: 0.5 }],
    notes: [`The rebuild reads ${REBUILD_EVENTS.toLocaleString('en-US')} events.`],
  },
  relayStep,
  mongoStep,
  longRebuildStep,
  startupStep,
];

function selectSteps(argv: readonly string[]): readonly BenchmarkStep[] {
  const only = argv.find((argument) => argument.startsWith('--only='))?.slice('--only='.length);
  if (only === undefined) return STEPS;
  const keys = only.split(',');
  const unknown = keys.filter((key) => !STEPS.some((step) => step.key === key));
  if (unknown.length > 0) throw new Error(`unknown benchmark step ${unknown.join(', ')}; expected one of ${STEPS.map((step) => step.key).join(', ')}`);
  return STEPS.filter((step) => keys.includes(step.key));
}

async function main(): Promise<void> {
  const steps = selectSteps(process.argv.slice(2));
  const startedAt = new Date();
  const commit = describeCommit();
  const loadAverageAtStart = os.loadavg();
  const figures = new FigureSet();
  const failures: string[] = [];

  for (const step of steps) {
    console.log(`== ${step.key}: ${step.title}`);
    try {
      await step.run(figures);
    } catch (error) {
      // One broken step must not hide the figures of the others; the report lists the failure.
      const message = error instanceof Error ? error.message : String(error);
      console.error(`${step.key} failed: ${message}`);
      failures.push(`${step.key} failed: ${message.split('\n')[0] ?? ''}`);
    }
  }

  const report = {
    figures,
    comparisons: steps.flatMap((step) => step.comparisons),
    limits: steps.flatMap((step) => step.limits ?? []),
    unmeasured: steps.flatMap((step) => step.unmeasured ?? []),
    notes: [...steps.flatMap((step) => step.notes), ...failures.map((failure) => `FAILED: ${failure}`)],
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    commit,
    loadAverageAtStart,
  };
  if (steps.length === STEPS.length) {
    appendReport(report);
    console.log(`appended the results to ${BENCHMARKS_FILE}`);
  } else {
    console.log(renderSection(report));
    console.log(`partial run (--only): ${BENCHMARKS_FILE} left unchanged`);
  }
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
