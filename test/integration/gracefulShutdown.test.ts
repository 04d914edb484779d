import path from 'node:path';
import type { RecordedEvent } from '../../src/application/ports/EventStore';
import { SqliteEventStore } from '../../src/infrastructure/eventstore/SqliteEventStore';
import { NEW_ORDERS_QUEUE } from '../../src/infrastructure/messaging/RabbitMqPublisher';
import { buildApp, startChildApp, type ChildApp } from '../support/childApp';
import { amqpUrl, collectMessages, createTestVhost, describeWithRabbitMq, RABBITMQ_HOST, RABBITMQ_PORT, type MessageCollector, type TestVhost } from '../support/rabbitMq';
import { startTcpProxy } from '../support/tcpProxy';
import { silentLogger } from '../support/silentLogger';
import { makeDataDir, removeDataDir } from '../support/testApp';

const SHUTDOWN_GRACE_MS = 2000;
/** Time allowed beyond the grace period for stopping the workers, closing the stores and exiting. */
const EXIT_MARGIN_MS = 3000;
const CONCURRENT_LOOPS = 6;
const MAX_REQUESTS = 300;
const LOAD_DEADLINE_MS = 8000;
/** Requests answered before SIGTERM, so that it lands in the middle of the load. */
const REQUESTS_BEFORE_SIGTERM = 90;

/** What one POST /orders/ got: a status, or the code of the connection error that ended it. */
type Outcome = { readonly status: number; readonly orderId?: number } | { readonly connectionError: string };

async function postOrder(port: number, customerId: number, amount: number): Promise<Outcome> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/orders/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer_id: customerId, total_amount: amount }),
    });
    const text = await response.text();
    const orderId = response.status === 201 ? (JSON.parse(text) as { id: number }).id : undefined;
    return { status: response.status, ...(orderId !== undefined && { orderId }) };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { connectionError: cause?.code ?? cause?.message ?? String(error) };
  }
}

async function readLog(dataDir: string): Promise<RecordedEvent[]> {
  const store = SqliteEventStore.open(path.join(dataDir, 'events.sqlite'), silentLogger);
  try {
    const events: RecordedEvent[] = [];
    for (let after: bigint | undefined; ; ) {
      const page = await store.readAll({ after, maxCount: 1000 });
      events.push(...page);
      if (page.length < 1000) return events;
      after = page.at(-1)?.position;
    }
  } finally {
    await store.close();
  }
}

describeWithRabbitMq('graceful shutdown', () => {
  let vhost: TestVhost;
  let dataDir: string;
  let newOrders: MessageCollector;
  const children: ChildApp[] = [];

  const start = async (env: Record<string, string> = {}): Promise<ChildApp> => {
    const child = await startChildApp({
      DATA_DIR: dataDir,
      RABBITMQ_URL: vhost.url,
      SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS),
      RETRY_INITIAL_DELAY_MS: '50',
      RETRY_MAX_DELAY_MS: '500',
      ...env,
    });
    children.push(child);
    return child;
  };

  beforeAll(() => buildApp());

  beforeEach(async () => {
    vhost = await createTestVhost();
    dataDir = makeDataDir();
    newOrders = await collectMessages(vhost.url, NEW_ORDERS_QUEUE);
  });

  afterEach(async () => {
    for (const child of children.splice(0)) await child.kill('SIGKILL');
    await newOrders.close();
    await vhost.remove();
    removeDataDir(dataDir);
  });

  it('loses no order under keep-alive load', async () => {
    const app = await start();
    const customer = await app.request('POST', '/users/', { email: 'shutdown@example.com', username: 'shutdown', password: 'password1' });
    expect(customer.status).toBe(201);
    const customerId = customer.body.id as number;

    const outcomes: Outcome[] = [];
    let sent = 0;
    let exited: Promise<number | NodeJS.Signals | null> | undefined;
    let sigtermAt = 0;
    const loadDeadline = Date.now() + LOAD_DEADLINE_MS;
    const loop = async (): Promise<void> => {
      while (sent < MAX_REQUESTS && Date.now() < loadDeadline && app.process.exitCode === null && app.process.signalCode === null) {
        sent++;
        outcomes.push(await postOrder(app.port, customerId, sent));
        if (exited === undefined && outcomes.length >= REQUESTS_BEFORE_SIGTERM) {
          sigtermAt = Date.now();
          exited = app.kill('SIGTERM');
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENT_LOOPS }, loop));

    expect(exited).toBeDefined();
    const exitStatus = await exited;
    const shutdownMs = Date.now() - sigtermAt;
    expect(exitStatus).toBe(0);
    expect(shutdownMs).toBeLessThan(SHUTDOWN_GRACE_MS + EXIT_MARGIN_MS);
    // Busy keep-alive connections must close after their current response rather than serve
    // new requests until the grace period forces them shut, resetting whatever is in flight.
    expect(shutdownMs).toBeLessThan(SHUTDOWN_GRACE_MS);

    const answered = outcomes.flatMap((outcome) => ('status' in outcome ? [outcome.status] : []));
    const unexpected = answered.filter((status) => status !== 201 && status !== 503);
    expect(unexpected).toEqual([]);
    expect(answered.filter((status) => status === 201).length).toBeGreaterThanOrEqual(REQUESTS_BEFORE_SIGTERM / 2);

    const log = await readLog(dataDir);
    const loggedOrderIds = new Set(log.filter((event) => event.type === 'OrderCreated').map((event) => event.data.order_id as number));
    const acceptedOrderIds = outcomes.flatMap((outcome) => ('orderId' in outcome && outcome.orderId !== undefined ? [outcome.orderId] : []));
    expect(acceptedOrderIds.filter((orderId) => !loggedOrderIds.has(orderId))).toEqual([]);

    await start();
    const createdMessageIds = log.filter((event) => event.type === 'OrderCreated').map((event) => event.id);
    await newOrders.waitForMessageIds(createdMessageIds, 30_000);
    const messageIdsByOrder = new Map<number, Set<string>>();
    for (const message of newOrders.messages) {
      const orderId = (message.body as { id: number }).id;
      const messageIds = messageIdsByOrder.get(orderId) ?? new Set<string>();
      messageIds.add(message.messageId ?? '');
      messageIdsByOrder.set(orderId, messageIds);
    }
    expect([...loggedOrderIds].filter((orderId) => !messageIdsByOrder.has(orderId))).toEqual([]);
    expect([...messageIdsByOrder].filter(([, messageIds]) => messageIds.size !== 1)).toEqual([]);
  });

  it('exits within the grace period when the broker hangs', async () => {
    const proxy = await startTcpProxy({ targetHost: RABBITMQ_HOST, targetPort: RABBITMQ_PORT });
    try {
      const app = await start({ RABBITMQ_URL: amqpUrl(vhost.vhost, proxy.port) });
      const customer = await app.request('POST', '/users/', { email: 'hang@example.com', username: 'hang', password: 'password1' });
      expect((await app.request('POST', '/orders/', { customer_id: customer.body.id, total_amount: 5 })).status).toBe(201);
      await newOrders.waitForCount(1, 10_000);

      proxy.stall();
      expect((await app.request('POST', '/orders/', { customer_id: customer.body.id, total_amount: 6 })).status).toBe(201);
      const sigtermAt = Date.now();
      const exitStatus = await app.kill('SIGTERM');
      const shutdownMs = Date.now() - sigtermAt;

      expect(exitStatus).toBe(1);
      expect(shutdownMs).toBeLessThan(SHUTDOWN_GRACE_MS + EXIT_MARGIN_MS);
      const failure = app.logs.find((entry) => entry.msg === 'shutdown failed');
      expect((failure?.err as { message?: string } | undefined)?.message).toMatch(/^shutdown did not finish within SHUTDOWN_GRACE_MS \(2000 ms\) while (stopping the outbox relay|closing the message broker connection)$/);
    } finally {
      await proxy.close();
    }
  });
});
