// The `relay` step of `npm run bench`: raw amqplib publishing as the baseline, the outbox relay
// catching up on a filled log, and the delay from an order's 201 to its message on `new_orders`.
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as connectAmqp, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { RELAY_CHECKPOINT_STREAM } from '../src/application/outbox/OutboxRelay';
import { SqliteEventStore } from '../src/infrastructure/eventstore/SqliteEventStore';
import { withTimeout } from '../src/infrastructure/messaging/BrokerSession';
import { NEW_ORDERS_QUEUE, ORDER_UPDATES_QUEUE } from '../src/infrastructure/messaging/rabbitMqTopology';
import { startShopstream, type ChildServer } from './childProcesses';
import type { BenchmarkStep, FigureSet } from './figures';
import { CONNECTIONS, MAX_REQUESTS_PER_RUN, postOrderLoad, registerUsers, runChecked, RUN_DURATION_MS, RUNS, WARM_UP_MS } from './httpBenchmarks';
import { percentile } from './loadGenerator';
import { createBenchVhost } from './rabbitMqVhost';
import { fillLog, ORDERS_PER_CUSTOMER, silentLogger } from './storeBenchmarks';

/** Order events in the log the relay catches up on: half OrderCreated, half OrderStatusChanged. */
export const RELAY_ORDER_EVENTS = 100_000;
const BASELINE_MESSAGES_PER_RUN = 50_000;
const BASELINE_MESSAGE_BYTES = 1024;
const BASELINE_WARM_UP_MESSAGES = 5_000;
/** Messages the baseline publishes before it waits for their confirms. */
const CONFIRM_EVERY = 100;
const BASELINE_QUEUE = 'bench_publish_baseline';
const MAX_BASELINE_RUN_MS = 30_000;
/** Maximum wait for one group's confirms, or for the channel's write buffer to drain. */
const CONFIRM_TIMEOUT_MS = 10_000;
const CATCH_UP_TIMEOUT_MS = 60_000;
const CHECKPOINT_POLL_INTERVAL_MS = 20;
const LATENCY_CUSTOMERS = 20;
/** Maximum time the consumer waits for a load run's messages after the run ends. */
const MESSAGE_WAIT_TIMEOUT_MS = 30_000;
const MESSAGE_POLL_INTERVAL_MS = 10;
const LATENCY_TARGET_P99_MS = 100;

export const FIGURE = {
  publishBaseline: `amqplib publish of ${BASELINE_MESSAGE_BYTES / 1024} KiB persistent messages, confirms awaited every ${CONFIRM_EVERY}, messages/s`,
  catchUp: `Relay catch-up over ${RELAY_ORDER_EVENTS.toLocaleString('en-US')} order events (ROLES=relay), messages/s`,
  latencyP50: 'Order message latency, 201 to new_orders consumer, under POST /orders/ load, p50',
  latencyP99: 'Order message latency, 201 to new_orders consumer, under POST /orders/ load, p99',
} as const;

export const relayStep: BenchmarkStep = {
  key: 'relay',
  title: 'outbox relay: amqplib baseline, catch-up and message latency',
  run: async (figures) => {
    await measurePublishBaseline(figures);
    await measureCatchUp(figures);
    await measureMessageLatency(figures);
  },
  comparisons: [{ scenario: FIGURE.catchUp, baseline: FIGURE.publishBaseline, target: 0.7 }],
  limits: [{ figure: FIGURE.latencyP99, max: LATENCY_TARGET_P99_MS }],
  notes: [
    `The publish baseline sends ${BASELINE_MESSAGES_PER_RUN.toLocaleString('en-US')} messages per run through the default exchange to an empty durable queue on one confirm channel. The relay's message bodies are JSON of 160 to 200 bytes.`,
    `Relay catch-up: \`node dist/src/main.js\` with ROLES=relay on a copy of a SQLite log of ${RELAY_ORDER_EVENTS.toLocaleString('en-US')} order events with no relay checkpoint, in a fresh vhost per run, timed from its "shopstream started" line until its checkpoint reaches the last order event.`,
    `Message latency: the app with default roles under the POST /orders/ load (${CONNECTIONS} connections, ${RUN_DURATION_MS / 1000} s per run), with a consumer on new_orders in the benchmark process. Each order's latency runs from its 201 to its message, both timed on this process's clock, and is negative when the message arrives first.`,
  ],
};

/** Publishes 1 KiB persistent messages on a confirm channel, waiting for confirms after every CONFIRM_EVERY. */
async function measurePublishBaseline(figures: FigureSet): Promise<void> {
  const vhost = await createBenchVhost();
  try {
    const connection = await connectAmqp(vhost.url);
    try {
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue(BASELINE_QUEUE, { durable: true });
      const content = Buffer.alloc(BASELINE_MESSAGE_BYTES, 'x');
      await publishInConfirmedGroups(channel, content, BASELINE_WARM_UP_MESSAGES);

      for (let run = 1; run <= RUNS; run += 1) {
        await channel.purgeQueue(BASELINE_QUEUE);
        const started = performance.now();
        const confirmed = await publishInConfirmedGroups(channel, content, BASELINE_MESSAGES_PER_RUN);
        const rate = (confirmed * 1000) / (performance.now() - started);
        figures.record(FIGURE.publishBaseline, 'messages/s', rate);
        console.log(`${FIGURE.publishBaseline}: run ${run}: ${rate.toFixed(0)}`);
      }
    } finally {
      await connection.close();
    }
  } finally {
    await vhost.remove();
  }
}

/** Returns the number of messages confirmed, which is less than `count` only when MAX_BASELINE_RUN_MS ran out. */
async function publishInConfirmedGroups(channel: ConfirmChannel, content: Buffer, count: number): Promise<number> {
  const deadline = performance.now() + MAX_BASELINE_RUN_MS;
  let confirmed = 0;
  while (confirmed < count && performance.now() < deadline) {
    const group = Math.min(CONFIRM_EVERY, count - confirmed);
    for (let index = 0; index < group; index += 1) {
      const accepted = channel.sendToQueue(BASELINE_QUEUE, content, { persistent: true, contentType: 'application/json' });
      if (!accepted) await withTimeout(once(channel, 'drain'), CONFIRM_TIMEOUT_MS, `amqplib's write buffer did not drain within ${CONFIRM_TIMEOUT_MS} ms`);
    }
    await withTimeout(channel.waitForConfirms(), CONFIRM_TIMEOUT_MS, `RabbitMQ did not confirm ${group} messages within ${CONFIRM_TIMEOUT_MS} ms`);
    confirmed += group;
  }
  return confirmed;
}

/** Runs the relay alone over a filled log, once per run on a fresh copy of the log and a fresh vhost. */
async function measureCatchUp(figures: FigureSet): Promise<void> {
  const folder = mkdtempSync(path.join(tmpdir(), 'shopstream-bench-relay-'));
  try {
    const template = path.join(folder, 'template.sqlite');
    // fillLog writes whole customers: one UserRegistered, then two events per order.
    const customers = RELAY_ORDER_EVENTS / (2 * ORDERS_PER_CUSTOMER);
    const stored = await fillLog(template, customers * (1 + 2 * ORDERS_PER_CUSTOMER));
    const lastPosition = await readHeadPosition(template);
    console.log(`filled ${template} with ${stored} events, ${RELAY_ORDER_EVENTS} of them order events`);

    for (let run = 1; run <= RUNS; run += 1) {
      const dataDir = path.join(folder, `run-${run}`);
      mkdirSync(dataDir);
      // SQLite checkpoints the WAL into the main file when the last connection closes. A WAL file
      // remains only if that checkpoint failed, and copying it too keeps the copy complete.
      copyFileSync(template, path.join(dataDir, 'events.sqlite'));
      if (existsSync(`${template}-wal`)) copyFileSync(`${template}-wal`, path.join(dataDir, 'events.sqlite-wal'));
      const rate = await catchUpOnce(dataDir, lastPosition);
      figures.record(FIGURE.catchUp, 'messages/s', rate);
      console.log(`${FIGURE.catchUp}: run ${run}: ${rate.toFixed(0)}`);
      rmSync(dataDir, { recursive: true, force: true });
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

async function readHeadPosition(file: string): Promise<bigint> {
  const store = SqliteEventStore.open(file, silentLogger);
  try {
    const head = await store.headPosition();
    if (head === undefined) throw new Error(`the filled log ${file} is empty`);
    return head;
  } finally {
    await store.close();
  }
}

/** Starts the app with ROLES=relay and returns messages/s until its checkpoint reaches `lastPosition`. */
async function catchUpOnce(dataDir: string, lastPosition: bigint): Promise<number> {
  const vhost = await createBenchVhost();
  // A second connection to the file, like the CLI's next to a running server. It only reads the checkpoint.
  const store = SqliteEventStore.open(path.join(dataDir, 'events.sqlite'), silentLogger);
  let app: ChildServer | undefined;
  try {
    app = await startShopstream({ ROLES: 'relay', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, RABBITMQ_URL: vhost.url });
    const started = performance.now();
    await waitForCheckpoint(store, lastPosition);
    const elapsedMs = performance.now() - started;
    await checkQueueDepths(vhost.url);
    return (RELAY_ORDER_EVENTS * 1000) / elapsedMs;
  } finally {
    await app?.stop();
    await store.close();
    await vhost.remove();
  }
}

async function waitForCheckpoint(store: SqliteEventStore, lastPosition: bigint): Promise<void> {
  const started = performance.now();
  let checkpoint: bigint | undefined;
  while (performance.now() - started < CATCH_UP_TIMEOUT_MS) {
    const [last] = await store.readStream(RELAY_CHECKPOINT_STREAM, { direction: 'backwards', maxCount: 1 });
    checkpoint = last === undefined ? undefined : BigInt(String(last.data.position));
    if (checkpoint !== undefined && checkpoint >= lastPosition) return;
    await delay(CHECKPOINT_POLL_INTERVAL_MS);
  }
  throw new Error(
    `the relay checkpoint reached position ${String(checkpoint ?? 'none')} of ${lastPosition} within ${CATCH_UP_TIMEOUT_MS} ms`,
  );
}

/** Throws unless each queue contains at least its half of the order messages, and logs any duplicates. */
async function checkQueueDepths(url: string): Promise<void> {
  const connection = await connectAmqp(url);
  try {
    const channel = await connection.createChannel();
    for (const queue of [NEW_ORDERS_QUEUE, ORDER_UPDATES_QUEUE]) {
      const { messageCount } = await channel.checkQueue(queue);
      const expected = RELAY_ORDER_EVENTS / 2;
      if (messageCount < expected) throw new Error(`queue ${queue} contains ${messageCount} messages after the catch-up, expected ${expected}`);
      if (messageCount > expected) console.log(`queue ${queue} contains ${messageCount - expected} duplicate messages after the catch-up`);
    }
  } finally {
    await connection.close();
  }
}

/**
 * Runs the app with default roles under the POST /orders/ load while a consumer in this process
 * reads `new_orders`, and records per order the time from its 201 to its message.
 */
async function measureMessageLatency(figures: FigureSet): Promise<void> {
  const vhost = await createBenchVhost();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'shopstream-bench-latency-'));
  let app: ChildServer | undefined;
  let consumer: ChannelModel | undefined;
  try {
    app = await startShopstream({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, RABBITMQ_URL: vhost.url });
    const customers = await registerUsers(app.port, LATENCY_CUSTOMERS, 'latency');
    const pickCustomer = (): number => customers[Math.floor(Math.random() * customers.length)] ?? 1;
    const tracker = new LatencyTracker();

    consumer = await connectAmqp(vhost.url);
    const channel = await consumer.createChannel();
    // The same arguments as the app's declaration, so this only makes sure the queue exists.
    await channel.assertQueue(NEW_ORDERS_QUEUE, { durable: true });
    await channel.consume(
      NEW_ORDERS_QUEUE,
      (message) => {
        if (message !== null) tracker.messageArrived(message.content);
      },
      { noAck: true },
    );

    const load = postOrderLoad(app.port, pickCustomer, (body) => tracker.responseArrived((body as { id: number }).id));
    await runChecked('order message latency warm-up', { ...load, durationMs: WARM_UP_MS, maxRequests: MAX_REQUESTS_PER_RUN });
    await tracker.waitForMessages();
    tracker.takeLatencies();

    for (let run = 1; run <= RUNS; run += 1) {
      const result = await runChecked(FIGURE.latencyP99, { ...load, durationMs: RUN_DURATION_MS, maxRequests: MAX_REQUESTS_PER_RUN });
      await tracker.waitForMessages();
      const latencies = tracker.takeLatencies().sort((a, b) => a - b);
      const early = latencies.filter((latency) => latency < 0).length;
      figures.record(FIGURE.latencyP50, 'ms', percentile(latencies, 0.5));
      figures.record(FIGURE.latencyP99, 'ms', percentile(latencies, 0.99));
      console.log(
        `order message latency: run ${run}: ${latencies.length} orders at ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms, max ${(latencies.at(-1) ?? Number.NaN).toFixed(2)} ms, ${early} messages before their 201`,
      );
    }
  } finally {
    await consumer?.close();
    await app?.stop();
    await vhost.remove();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Pairs each order's 201 with its message, in whichever order they arrive, and keeps the delay
 * from the 201 to the message in ms, which is negative when the message arrives first.
 */
class LatencyTracker {
  private readonly responses = new Map<number, number>();
  private readonly messages = new Map<number, number>();
  private latencies: number[] = [];
  private invalidMessage: string | undefined;

  responseArrived(orderId: number): void {
    const now = performance.now();
    const messageAt = this.messages.get(orderId);
    if (messageAt === undefined) {
      this.responses.set(orderId, now);
      return;
    }
    this.messages.delete(orderId);
    this.latencies.push(messageAt - now);
  }

  /** Records a `new_orders` message. A body without a numeric `id` is kept as the error that waitForMessages throws. */
  messageArrived(content: Buffer): void {
    const now = performance.now();
    const orderId = orderIdOf(content);
    if (orderId === undefined) {
      this.invalidMessage ??= content.toString('utf8').slice(0, 200);
      return;
    }
    const respondedAt = this.responses.get(orderId);
    if (respondedAt === undefined) {
      // A duplicate of an already paired order's message lands here too, so it stays unpaired and is never counted.
      this.messages.set(orderId, now);
      return;
    }
    this.responses.delete(orderId);
    this.latencies.push(now - respondedAt);
  }

  /** Waits until every order created with a 201 has its message, up to MESSAGE_WAIT_TIMEOUT_MS. */
  async waitForMessages(): Promise<void> {
    const started = performance.now();
    while (this.responses.size > 0) {
      if (this.invalidMessage !== undefined) throw new Error(`new_orders message without a numeric id: ${this.invalidMessage}`);
      if (performance.now() - started > MESSAGE_WAIT_TIMEOUT_MS) {
        throw new Error(`${this.responses.size} orders created with a 201 received no new_orders message within ${MESSAGE_WAIT_TIMEOUT_MS} ms`);
      }
      await delay(MESSAGE_POLL_INTERVAL_MS);
    }
  }

  /** Returns the delays collected since the last call and starts a new collection. */
  takeLatencies(): number[] {
    const collected = this.latencies;
    this.latencies = [];
    return collected;
  }
}

function orderIdOf(content: Buffer): number | undefined {
  try {
    const body = JSON.parse(content.toString('utf8')) as { id?: unknown };
    return typeof body.id === 'number' ? body.id : undefined;
  } catch {
    return undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
