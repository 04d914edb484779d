import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBaselineServer, startShopstream, type ChildServer } from './childProcesses';
import type { FigureSet } from './figures';
import { runLoad, type LoadOptions, type LoadResult } from './loadGenerator';
import { createBenchVhost } from './rabbitMqVhost';

export const RUNS = 3;
export const CONNECTIONS = 50;
export const RUN_DURATION_MS = 5_000;
export const WARM_UP_MS = 1_000;
/** Upper bound of requests in one timed run, far above what one machine serves in RUN_DURATION_MS. */
export const MAX_REQUESTS_PER_RUN = 2_000_000;
export const ORDERS_FOR_READS = 10_000;
const CUSTOMERS = 20;
/** Registrations per burst, sent over CONNECTIONS sockets, so that up to CONNECTIONS are in flight at once. */
export const REGISTRATIONS_PER_BURST = 100;
const SETUP_TIMEOUT_MS = 180_000;
const RELAY_WAIT_TIMEOUT_MS = 300_000;
const RELAY_POLL_INTERVAL_MS = 250;

export const FIGURE = {
  baselinePost: 'Express + joi POST ceiling, req/s',
  baselinePostP50: 'Express + joi POST ceiling, p50',
  baselinePostP99: 'Express + joi POST ceiling, p99',
  baselineGet: 'Express GET ceiling, req/s',
  baselineGetP50: 'Express GET ceiling, p50',
  baselineGetP99: 'Express GET ceiling, p99',
  createOrder: 'POST /orders/ (embedded stack), req/s',
  createOrderP50: 'POST /orders/ (embedded stack), p50',
  createOrderP99: 'POST /orders/ (embedded stack), p99',
  readOrder: `GET /orders/{id} over ${ORDERS_FOR_READS.toLocaleString('en-US')} orders, req/s`,
  readOrderP50: `GET /orders/{id} over ${ORDERS_FOR_READS.toLocaleString('en-US')} orders, p50`,
  readOrderP99: `GET /orders/{id} over ${ORDERS_FOR_READS.toLocaleString('en-US')} orders, p99`,
  registerUser: `POST /users/ burst of ${REGISTRATIONS_PER_BURST}, registrations/s`,
} as const;

/** Measures the Express ceilings in a child process: POST with joi validation, and GET of fixed JSON. */
export async function measureExpressBaselines(figures: FigureSet): Promise<void> {
  const server = await startBaselineServer();
  try {
    const post = postOrderLoad(server.port, () => 1);
    await timedRuns(figures, post, FIGURE.baselinePost, FIGURE.baselinePostP50, FIGURE.baselinePostP99);
    const get = getOrderLoad(server.port, () => 1);
    await timedRuns(figures, get, FIGURE.baselineGet, FIGURE.baselineGetP50, FIGURE.baselineGetP99);
  } finally {
    await server.stop();
  }
}

/**
 * Measures the app in a child process on the embedded stack (SQLite event store, in-memory read
 * models, projector and relay running, RabbitMQ in a fresh vhost): order creation, order reads
 * and, when `measureRegistrations` is set, a burst of registrations.
 */
export async function measureEmbeddedStack(figures: FigureSet, measureRegistrations: boolean): Promise<void> {
  const vhost = await createBenchVhost();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'shopstream-bench-'));
  let app: ChildServer | undefined;
  try {
    app = await startShopstream({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, RABBITMQ_URL: vhost.url });
    const customers = await registerUsers(app.port, CUSTOMERS, 'customer');
    const orderIds: number[] = [];
    const pickCustomer = (): number => customers[Math.floor(Math.random() * customers.length)] ?? 1;

    const post = postOrderLoad(app.port, pickCustomer, (body) => orderIds.push((body as { id: number }).id));
    await timedRuns(figures, post, FIGURE.createOrder, FIGURE.createOrderP50, FIGURE.createOrderP99);

    await topUpOrders(post, orderIds);
    // Reads and registrations are measured with the relay idle, not while it drains the order backlog.
    const relayWaitMs = await waitForRelay(app.port, orderIds.length);
    console.log(`relay published ${orderIds.length} order messages; waited ${(relayWaitMs / 1000).toFixed(1)} s for it after the order runs`);
    const readable = orderIds.slice(0, ORDERS_FOR_READS);
    const get = getOrderLoad(app.port, () => readable[Math.floor(Math.random() * readable.length)] ?? 1);
    await timedRuns(figures, get, FIGURE.readOrder, FIGURE.readOrderP50, FIGURE.readOrderP99);

    if (measureRegistrations) {
      for (let run = 1; run <= RUNS; run += 1) {
        const started = performance.now();
        await registerUsers(app.port, REGISTRATIONS_PER_BURST, `burst${run}`);
        figures.record(FIGURE.registerUser, 'registrations/s', (REGISTRATIONS_PER_BURST * 1000) / (performance.now() - started));
      }
    }
  } finally {
    await app?.stop();
    await vhost.remove();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export type LoadTemplate = Omit<LoadOptions, 'durationMs' | 'maxRequests'>;

export function postOrderLoad(port: number, customerId: () => number, onSuccess?: (body: unknown) => void): LoadTemplate {
  return {
    port,
    method: 'POST',
    path: () => '/orders/',
    body: () => ({ customer_id: customerId(), total_amount: 99.5 }),
    expectedStatus: 201,
    connections: CONNECTIONS,
    ...(onSuccess !== undefined && { onSuccess }),
  };
}

function getOrderLoad(port: number, orderId: () => number): LoadTemplate {
  return { port, method: 'GET', path: () => `/orders/${orderId()}`, expectedStatus: 200, connections: CONNECTIONS };
}

/** Runs one untimed warm-up, then RUNS timed runs, recording throughput and latency of each. */
export async function timedRuns(figures: FigureSet, load: LoadTemplate, rateName: string, p50Name: string, p99Name: string): Promise<void> {
  await runChecked(rateName, { ...load, durationMs: WARM_UP_MS, maxRequests: MAX_REQUESTS_PER_RUN });
  for (let run = 1; run <= RUNS; run += 1) {
    const result = await runChecked(rateName, { ...load, durationMs: RUN_DURATION_MS, maxRequests: MAX_REQUESTS_PER_RUN });
    figures.record(rateName, 'req/s', result.requestsPerSecond);
    figures.record(p50Name, 'ms', result.p50Ms);
    figures.record(p99Name, 'ms', result.p99Ms);
    console.log(`${rateName}: run ${run}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`);
  }
}

/** Runs a load and throws if any request failed, so a broken run never passes as a slow one. */
export async function runChecked(name: string, options: LoadOptions): Promise<LoadResult> {
  const result = await runLoad(options);
  if (result.failures > 0 || result.successes === 0) {
    throw new Error(`${name}: ${result.failures} of ${result.failures + result.successes} requests failed; first: ${result.firstFailure ?? 'none sent'}`);
  }
  return result;
}

/** Registers `count` users over up to CONNECTIONS sockets and returns their ids. */
export async function registerUsers(port: number, count: number, prefix: string): Promise<number[]> {
  const ids: number[] = [];
  let next = 0;
  await runChecked(`registering ${count} users`, {
    port,
    method: 'POST',
    path: () => '/users/',
    body: () => {
      next += 1;
      return { email: `${prefix}${next}@bench.example`, username: `${prefix}_${next}`, password: 'bench-password-1' };
    },
    expectedStatus: 201,
    connections: Math.min(CONNECTIONS, count),
    durationMs: SETUP_TIMEOUT_MS,
    maxRequests: count,
    onSuccess: (body) => ids.push((body as { id: number }).id),
  });
  if (ids.length !== count) throw new Error(`registered ${ids.length} of ${count} users within ${SETUP_TIMEOUT_MS} ms`);
  return ids;
}

/** Creates orders until at least ORDERS_FOR_READS exist, so reads spread over that many. */
async function topUpOrders(post: LoadTemplate, orderIds: number[]): Promise<void> {
  const missing = ORDERS_FOR_READS - orderIds.length;
  if (missing > 0) await runChecked('creating orders for reads', { ...post, durationMs: SETUP_TIMEOUT_MS, maxRequests: missing });
  if (orderIds.length < ORDERS_FOR_READS) {
    throw new Error(`created ${orderIds.length} of ${ORDERS_FOR_READS} orders within ${SETUP_TIMEOUT_MS} ms`);
  }
}

/** Polls the readiness report until the relay has published `messages` messages; returns the wait in ms. */
async function waitForRelay(port: number, messages: number): Promise<number> {
  const started = performance.now();
  let published = 0;
  while (performance.now() - started < RELAY_WAIT_TIMEOUT_MS) {
    const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
    const report = (await response.json()) as { relay?: { messages_published?: number } };
    published = report.relay?.messages_published ?? 0;
    if (published >= messages) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, RELAY_POLL_INTERVAL_MS));
  }
  throw new Error(`the relay published ${published} of ${messages} order messages within ${RELAY_WAIT_TIMEOUT_MS} ms`);
}
