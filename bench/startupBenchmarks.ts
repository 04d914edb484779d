import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startShopstream, type ChildServer } from './childProcesses';
import type { BenchmarkStep, FigureSet } from './figures';
import {
  CONNECTIONS,
  MAX_REQUESTS_PER_RUN,
  registerUsers,
  RUNS,
  runChecked,
  timedRuns,
  WARM_UP_MS,
  type LoadTemplate,
} from './httpBenchmarks';
import { fillMarketplaceLog, HEAVY_CUSTOMER_ORDERS, type MarketplaceLog } from './marketplaceLog';
import { createBenchVhost } from './rabbitMqVhost';
import { measureReadAndParse, measureRebuild } from './storeBenchmarks';

export const STARTUP_EVENTS = 1_000_000;
const EVENTS = STARTUP_EVENTS.toLocaleString('en-US');
/** Time the app has to replay the log and log its start line before the run fails. */
const START_TIMEOUT_MS = 300_000;
/** A replay running longer than this is aborted, which fails the rebuild step. */
const REBUILD_TIMEOUT_MS = 300_000;
const LIVE_POLL_ATTEMPTS = 100;
const LIVE_POLL_INTERVAL_MS = 20;
/** Registrations in the burst beside the GETs, enough that the burst outlasts the GET window. */
const BURST_REGISTRATIONS = 200;
/** The GETs start this long after the burst, once the bcrypt calls fill the thread pool. */
const BURST_LEAD_MS = 500;
const GET_WINDOW_MS = 3_000;
const READ_LATENCY_LIMIT_MS = 20;

export const FIGURE = {
  startEmpty: 'Start-up on an empty log, spawn to first 200 from GET /health/live, s',
  start: `Start-up with ${EVENTS} events (embedded store, in-memory read models), spawn to first 200 from GET /health/live, s`,
  rssEmpty: 'RSS after start-up on an empty log, MiB',
  rss: `RSS after start-up with ${EVENTS} events, MiB`,
  documents: `Read model documents after start-up with ${EVENTS} events`,
  bytesPerDocument: 'Memory per read model document ((RSS with the log − RSS on an empty log) / documents), bytes',
  readParse: `SQLite read of ${EVENTS} events with JSON.parse of data and metadata, events/s`,
  rebuild: `Rebuild of in-memory read models (Projector.catchUp) from ${EVENTS} events, events/s`,
  customerOrders: `GET /orders/user/{id} with ${HEAVY_CUSTOMER_ORDERS} orders, req/s`,
  customerOrdersP50: `GET /orders/user/{id} with ${HEAVY_CUSTOMER_ORDERS} orders, p50`,
  customerOrdersP99: `GET /orders/user/{id} with ${HEAVY_CUSTOMER_ORDERS} orders, p99`,
  readQuiet: 'GET /orders/{id} without a registration burst, req/s',
  readQuietP99: 'GET /orders/{id} without a registration burst, p99',
  readDuringBurst: `GET /orders/{id} during a POST /users/ burst of ${BURST_REGISTRATIONS}, req/s`,
  readDuringBurstP99: `GET /orders/{id} during a POST /users/ burst of ${BURST_REGISTRATIONS}, p99`,
  burstDuringReads: `POST /users/ burst of ${BURST_REGISTRATIONS} beside the GETs, registrations/s`,
} as const;

/** Start-up with a long log, memory per document, and reads on the app started on that log. */
export const startupStep: BenchmarkStep = {
  key: 'startup',
  title: `start-up with ${EVENTS} events, customer order lists, reads during registrations`,
  run: measureStartupAndReads,
  comparisons: [],
  limits: [{ figure: FIGURE.readDuringBurstP99, max: READ_LATENCY_LIMIT_MS }],
  notes: [
    `Start-up: the app in a child process with its defaults (projector and relay on, RabbitMQ in a fresh vhost) on a copy of a ${EVENTS}-event log, timed from spawn until GET /health/live returns 200. RSS is VmRSS from /proc right after that response. It includes garbage of the replay that V8 has not collected yet, so memory per document is an upper bound of the live size. Start-up, RSS and memory per document are reported without a target.`,
    `The log is a simulated shop (bench/marketplaceLog.ts), filled once per run through SqliteEventStore with the app's event formats and hash chains: registrations with their id allocations and email and username reservations, products created, updated and deleted, orders created and moved through their statuses, and relay checkpoints, the last one covering the last order event, so the relay starts with nothing to publish.`,
    `Reads run against the last app started on that log. GET /orders/user/{id} lists the orders of a customer with ${HEAVY_CUSTOMER_ORDERS} orders (reported, no target). GET /orders/{id} picks random orders over ${CONNECTIONS} connections for ${GET_WINDOW_MS / 1000} s, once alone and once starting ${BURST_LEAD_MS} ms after a burst of ${BURST_REGISTRATIONS} registrations over ${CONNECTIONS} more connections.`,
  ],
};

/** The in-memory rebuild from the long log against the SQLite read-and-parse baseline on the same file. */
export const longRebuildStep: BenchmarkStep = {
  key: 'rebuild-1m',
  title: `in-memory rebuild from ${EVENTS} events`,
  run: measureLongRebuild,
  comparisons: [{ scenario: FIGURE.rebuild, baseline: FIGURE.readParse, target: 0.5 }],
  notes: [`The ${EVENTS}-event rebuild runs in the benchmark process on the simulated shop's log that the start-up step uses.`],
};

type FilledLog = { readonly file: string; readonly log: MarketplaceLog };

let filledLog: Promise<FilledLog> | undefined;

/** Fills the long log on first use. Both steps of one run share it, and it is deleted when the process exits. */
function longLog(): Promise<FilledLog> {
  filledLog ??= (async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'shopstream-bench-startup-'));
    // NOTE: a run killed by a signal skips 'exit' handlers and leaves this folder (about 500 MB) behind.
    process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
    const file = path.join(folder, 'events.sqlite');
    const started = performance.now();
    const log = await fillMarketplaceLog(file, STARTUP_EVENTS);
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    console.log(`filled ${file} in ${seconds} s: ${log.users} users, ${log.products} products, ${log.orders} orders`);
    return { file, log };
  })();
  return filledLog;
}

async function measureLongRebuild(figures: FigureSet): Promise<void> {
  const { file, log } = await longLog();
  // Alternating the two keeps drift in the machine's state (page cache, CPU clock) from favouring either.
  for (let run = 1; run <= RUNS; run += 1) {
    const readRate = measureReadAndParse(file, log.events);
    figures.record(FIGURE.readParse, 'events/s', readRate);
    const rebuildRate = await measureRebuild(file, log.events, undefined, AbortSignal.timeout(REBUILD_TIMEOUT_MS));
    figures.record(FIGURE.rebuild, 'events/s', rebuildRate);
    console.log(`${EVENTS} events: read-and-parse run ${run}: ${readRate.toFixed(0)} events/s; rebuild run ${run}: ${rebuildRate.toFixed(0)} events/s`);
  }
}

async function measureStartupAndReads(figures: FigureSet): Promise<void> {
  const { file, log } = await longLog();
  if (log.heavyCustomerOrders !== HEAVY_CUSTOMER_ORDERS) {
    throw new Error(`customer ${log.heavyCustomerId} has ${log.heavyCustomerOrders} orders in the log, expected ${HEAVY_CUSTOMER_ORDERS}`);
  }
  const documents = log.users + log.products + log.orders;
  const vhost = await createBenchVhost();
  // The app appends to its log when users register, so it gets a copy and the shared file stays as filled.
  const folder = mkdtempSync(path.join(tmpdir(), 'shopstream-bench-startup-app-'));
  const fullDir = path.join(folder, 'full');
  mkdirSync(fullDir);
  copyFileSync(file, path.join(fullDir, 'events.sqlite'));
  const environment = (dataDir: string): Record<string, string> => ({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, RABBITMQ_URL: vhost.url });

  let app: ChildServer | undefined;
  try {
    for (let run = 1; run <= RUNS; run += 1) {
      const empty = await startAndMeasure(environment(path.join(folder, `empty-${run}`)));
      await empty.app.stop();
      const full = await startAndMeasure(environment(fullDir));
      app = full.app;
      const bytesPerDocument = (full.rssBytes - empty.rssBytes) / documents;
      figures.record(FIGURE.startEmpty, 's', empty.seconds);
      figures.record(FIGURE.start, 's', full.seconds);
      figures.record(FIGURE.rssEmpty, 'MiB', empty.rssBytes / 2 ** 20);
      figures.record(FIGURE.rss, 'MiB', full.rssBytes / 2 ** 20);
      figures.record(FIGURE.documents, 'documents', documents);
      figures.record(FIGURE.bytesPerDocument, 'bytes', bytesPerDocument);
      console.log(
        `start-up run ${run}: empty ${empty.seconds.toFixed(2)} s, ${toMiB(empty.rssBytes)} MiB; ${EVENTS} events ${full.seconds.toFixed(2)} s, ${toMiB(full.rssBytes)} MiB, ${bytesPerDocument.toFixed(0)} bytes per document`,
      );
      // The last app started stays up for the reads.
      if (run < RUNS) {
        await app.stop();
        app = undefined;
      }
    }
    if (app === undefined) throw new Error('no app is running for the reads');
    await measureCustomerOrders(figures, app.port, log);
    await measureReadsDuringBurst(figures, app.port, log);
  } finally {
    await app?.stop();
    await vhost.remove();
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Spawns the app and returns the seconds until GET /health/live returns 200, and the app's RSS right after. */
async function startAndMeasure(environment: Record<string, string>): Promise<{ app: ChildServer; seconds: number; rssBytes: number }> {
  const started = performance.now();
  const app = await startShopstream(environment, START_TIMEOUT_MS);
  try {
    for (let attempt = 1; attempt <= LIVE_POLL_ATTEMPTS; attempt += 1) {
      const response = await fetch(`http://127.0.0.1:${app.port}/health/live`).catch(() => undefined);
      if (response?.status === 200) {
        const seconds = (performance.now() - started) / 1000;
        return { app, seconds, rssBytes: residentSetBytes(app.pid) };
      }
      await new Promise((resolve) => setTimeout(resolve, LIVE_POLL_INTERVAL_MS));
    }
    throw new Error(`GET /health/live did not return 200 after ${LIVE_POLL_ATTEMPTS} attempts ${LIVE_POLL_INTERVAL_MS} ms apart`);
  } catch (error) {
    await app.stop();
    throw error;
  }
}

/** Reads VmRSS of a process from /proc (Linux only), in bytes. */
function residentSetBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match?.[1] === undefined) throw new Error(`VmRSS is missing from /proc/${pid}/status, which the start-up step reads (Linux only)`);
  return Number(match[1]) * 1024;
}

async function measureCustomerOrders(figures: FigureSet, port: number, log: MarketplaceLog): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/orders/user/${log.heavyCustomerId}`);
  const orders = (await response.json()) as unknown[];
  if (response.status !== 200 || orders.length !== HEAVY_CUSTOMER_ORDERS) {
    throw new Error(`GET /orders/user/${log.heavyCustomerId} returned ${response.status} with ${orders.length} orders, expected 200 with ${HEAVY_CUSTOMER_ORDERS}`);
  }
  const load: LoadTemplate = { port, method: 'GET', path: () => `/orders/user/${log.heavyCustomerId}`, expectedStatus: 200, connections: CONNECTIONS };
  await timedRuns(figures, load, FIGURE.customerOrders, FIGURE.customerOrdersP50, FIGURE.customerOrdersP99);
}

/**
 * Measures GET /orders/{id} alone, then while a registration burst keeps the libuv pool busy with
 * bcrypt, in each run. The burst must outlast the GET window, so every GET counted ran beside it.
 */
async function measureReadsDuringBurst(figures: FigureSet, port: number, log: MarketplaceLog): Promise<void> {
  const reads: LoadTemplate = {
    port,
    method: 'GET',
    path: () => `/orders/${1 + Math.floor(Math.random() * log.orders)}`,
    expectedStatus: 200,
    connections: CONNECTIONS,
  };
  const window = { durationMs: GET_WINDOW_MS, maxRequests: MAX_REQUESTS_PER_RUN };
  await runChecked(FIGURE.readQuiet, { ...reads, durationMs: WARM_UP_MS, maxRequests: MAX_REQUESTS_PER_RUN });

  for (let run = 1; run <= RUNS; run += 1) {
    const quiet = await runChecked(FIGURE.readQuiet, { ...reads, ...window });
    figures.record(FIGURE.readQuiet, 'req/s', quiet.requestsPerSecond);
    figures.record(FIGURE.readQuietP99, 'ms', quiet.p99Ms);

    const burstStarted = performance.now();
    // Settled into a value at once, so a failed burst cannot become an unhandled rejection while the GETs run.
    const burst = registerUsers(port, BURST_REGISTRATIONS, `startup_burst${run}`).then(
      () => ({ endedAt: performance.now(), error: undefined }),
      (error: unknown) => ({ endedAt: performance.now(), error }),
    );
    await new Promise((resolve) => setTimeout(resolve, BURST_LEAD_MS));
    const loaded = await runChecked(FIGURE.readDuringBurst, { ...reads, ...window });
    const readsEndedAt = performance.now();
    const { endedAt, error } = await burst;
    if (error !== undefined) throw error instanceof Error ? error : new Error('the registration burst failed', { cause: error });
    if (endedAt < readsEndedAt) {
      throw new Error(`the burst of ${BURST_REGISTRATIONS} registrations ended ${(readsEndedAt - endedAt).toFixed(0)} ms before the GETs; raise BURST_REGISTRATIONS`);
    }
    figures.record(FIGURE.readDuringBurst, 'req/s', loaded.requestsPerSecond);
    figures.record(FIGURE.readDuringBurstP99, 'ms', loaded.p99Ms);
    figures.record(FIGURE.burstDuringReads, 'registrations/s', (BURST_REGISTRATIONS * 1000) / (endedAt - burstStarted));
    console.log(
      `GET /orders/{id} run ${run}: alone ${quiet.requestsPerSecond.toFixed(0)} req/s, p99 ${quiet.p99Ms.toFixed(2)} ms; during the burst ${loaded.requestsPerSecond.toFixed(0)} req/s, p99 ${loaded.p99Ms.toFixed(2)} ms`,
    );
  }
}

function toMiB(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}
