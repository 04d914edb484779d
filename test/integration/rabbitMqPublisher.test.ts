import { randomUUID } from 'node:crypto';
import type { Logger } from '../../src/application/ports/Logger';
import type { OutgoingMessage } from '../../src/application/ports/MessagePublisher';
import {
  NEW_ORDERS_QUEUE,
  ORDER_CREATED_ROUTING_KEY,
  ORDER_STATUS_CHANGED_ROUTING_KEY,
  ORDER_UPDATES_QUEUE,
  ORDERS_EXCHANGE,
  RabbitMqPublisher,
} from '../../src/infrastructure/messaging/RabbitMqPublisher';
import type { RabbitMqPublisherOptions } from '../../src/infrastructure/messaging/RabbitMqPublisher';
import {
  amqpUrl,
  collectMessages,
  createTestVhost,
  describeWithRabbitMq,
  listWithRabbitmqctl,
  RABBITMQ_HOST,
  RABBITMQ_PORT,
  runRabbitmqctl,
} from '../support/rabbitMq';
import type { CollectedMessage, MessageCollector, TestVhost } from '../support/rabbitMq';
import { startTcpProxy } from '../support/tcpProxy';
import type { TcpProxy } from '../support/tcpProxy';

const DELIVERY_TIMEOUT_MS = 10_000;
const CONFIRM_TIMEOUT_MS = 1_000;
const CONNECT_TIMEOUT_MS = 1_000;

describeWithRabbitMq('RabbitMqPublisher', () => {
  let testVhost: TestVhost;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    testVhost = await createTestVhost();
  });

  afterEach(async () => {
    // Publishers close before proxies, so a publisher never waits on a proxy that is gone.
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup();
    }
  });

  afterAll(async () => {
    await testVhost?.remove();
  });

  function createPublisher(options: Partial<RabbitMqPublisherOptions> & { logger: Logger }): RabbitMqPublisher {
    const publisher = new RabbitMqPublisher({ url: testVhost.url, ...options });
    cleanups.push(() => publisher.close());
    return publisher;
  }

  async function collect(queue: string, url = testVhost.url): Promise<MessageCollector> {
    const collector = await collectMessages(url, queue);
    cleanups.push(() => collector.close());
    return collector;
  }

  async function startProxy(): Promise<TcpProxy> {
    const proxy = await startTcpProxy({ targetHost: RABBITMQ_HOST, targetPort: RABBITMQ_PORT });
    cleanups.push(() => proxy.close());
    return proxy;
  }

  it('declares exchange, queues and bindings', async () => {
    const logger = new RecordingLogger();
    const publisher = createPublisher({ logger });

    await publisher.connect();

    expect(publisher.isConnected()).toBe(true);
    const exchanges = await listWithRabbitmqctl(['list_exchanges', '-p', testVhost.vhost, 'name', 'type', 'durable']);
    expect(exchanges).toContainEqual({ name: ORDERS_EXCHANGE, type: 'topic', durable: true });
    const queues = await listWithRabbitmqctl(['list_queues', '-p', testVhost.vhost, 'name', 'durable']);
    expect(queues).toContainEqual({ name: NEW_ORDERS_QUEUE, durable: true });
    expect(queues).toContainEqual({ name: ORDER_UPDATES_QUEUE, durable: true });
    const bindings = await listWithRabbitmqctl([
      'list_bindings', '-p', testVhost.vhost, 'source_name', 'destination_name', 'routing_key',
    ]);
    expect(bindings).toContainEqual({ source_name: ORDERS_EXCHANGE, destination_name: NEW_ORDERS_QUEUE, routing_key: ORDER_CREATED_ROUTING_KEY });
    expect(bindings).toContainEqual({
      source_name: ORDERS_EXCHANGE, destination_name: ORDER_UPDATES_QUEUE, routing_key: ORDER_STATUS_CHANGED_ROUTING_KEY,
    });
    expect(logger.find('info', 'connected to RabbitMQ')).toBeDefined();
  });

  it('sets message properties and body', async () => {
    const newOrders = await collect(NEW_ORDERS_QUEUE);
    const orderUpdates = await collect(ORDER_UPDATES_QUEUE);
    const publisher = createPublisher({ logger: new RecordingLogger() });
    const created = orderCreated({ correlationId: 'request-7', timestamp: Date.UTC(2024, 4, 1, 12, 30, 15, 999) });
    const changed = statusChanged({ correlationId: undefined });

    await publisher.publishConfirmed([created, changed]);

    const [createdMessage] = await newOrders.waitForMessageIds([created.messageId], DELIVERY_TIMEOUT_MS);
    expect(createdMessage).toEqual<CollectedMessage>({
      body: created.body,
      routingKey: ORDER_CREATED_ROUTING_KEY,
      messageId: created.messageId,
      type: 'OrderCreated',
      contentType: 'application/json',
      timestamp: Date.UTC(2024, 4, 1, 12, 30, 15) / 1000,
      correlationId: 'request-7',
      deliveryMode: 2,
      persistent: true,
    });
    const [changedMessage] = await orderUpdates.waitForMessageIds([changed.messageId], DELIVERY_TIMEOUT_MS);
    expect(changedMessage?.body).toEqual(changed.body);
    expect(changedMessage?.type).toBe('OrderStatusChanged');
    expect(changedMessage?.correlationId).toBeUndefined();
    expect(changedMessage?.persistent).toBe(true);
    expect(newOrders.messages.map((message) => message.messageId)).toEqual([created.messageId]);
  });

  it('delivers 200 messages from one call in order', async () => {
    const newOrders = await collect(NEW_ORDERS_QUEUE);
    const publisher = createPublisher({ logger: new RecordingLogger() });
    const batch = Array.from({ length: 200 }, (_, index) => orderCreated({ body: { order_id: index + 1 } }));
    const ids = batch.map((message) => message.messageId);

    await publisher.publishConfirmed(batch);

    const arrived = await newOrders.waitForMessageIds(ids, DELIVERY_TIMEOUT_MS);
    expect(describeOrderMismatch(arrived, ids)).toBeUndefined();
  });

  it('waits for drain on backpressure', async () => {
    const newOrders = await collect(NEW_ORDERS_QUEUE);
    const publisher = createPublisher({ logger: new RecordingLogger() });
    // amqplib 0.10 buffers at most 1024 frames per channel before publish() returns false.
    const batch = Array.from({ length: 2_500 }, (_, index) => orderCreated({ body: { order_id: index + 1 } }));
    const ids = batch.map((message) => message.messageId);
    const publishSpy = jest.spyOn(amqplibConfirmChannel().prototype, 'publish');

    let publishResults: unknown[];
    try {
      await publisher.publishConfirmed(batch);
    } finally {
      // mockRestore() also clears the recorded results, so they are copied first.
      publishResults = publishSpy.mock.results.map((result) => result.value as unknown);
      publishSpy.mockRestore();
    }

    expect(publishResults).toHaveLength(batch.length);
    expect(publishResults).toContain(false);
    const arrived = await newOrders.waitForMessageIds(ids, DELIVERY_TIMEOUT_MS);
    expect(describeOrderMismatch(arrived, ids)).toBeUndefined();
  });

  it('logs unroutable messages and still resolves', async () => {
    const logger = new RecordingLogger();
    const publisher = createPublisher({ logger });
    const unroutable = orderCreated({ routingKey: 'order.unknown' });

    await publisher.publishConfirmed([unroutable]);

    // RabbitMQ sends basic.return before the confirm, so the warning is logged by now.
    const entry = logger.find('warn', 'RabbitMQ returned an unroutable message');
    expect(entry?.context).toMatchObject({ messageId: unroutable.messageId, routingKey: 'order.unknown' });
  });

  it('reconnects after a cut connection', async () => {
    const proxy = await startProxy();
    const newOrders = await collect(NEW_ORDERS_QUEUE);
    const logger = new RecordingLogger();
    const publisher = createPublisher({
      url: amqpUrl(testVhost.vhost, proxy.port),
      logger,
      confirmTimeoutMs: CONFIRM_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    });
    const before = Array.from({ length: 3 }, () => orderCreated());
    const during = Array.from({ length: 50 }, () => orderCreated());
    const whileCut = [orderCreated()];
    const after = Array.from({ length: 3 }, () => orderCreated());

    await publisher.publishConfirmed(before);
    const startedAt = Date.now();
    const inFlight = publisher.publishConfirmed(during);
    proxy.cut();
    await expect(inFlight).rejects.toThrow(/did not confirm/);
    expect(Date.now() - startedAt).toBeLessThan(CONFIRM_TIMEOUT_MS + 500);
    expect(publisher.isConnected()).toBe(false);

    await expect(publisher.publishConfirmed(whileCut)).rejects.toThrow(/failed/);
    expect(logger.find('warn', 'failed to connect to RabbitMQ')).toBeDefined();
    const notSent = logger.find('warn', 'RabbitMQ publish failed before sending');
    expect(notSent?.context).toMatchObject({ messageIds: [whileCut[0]?.messageId] });

    proxy.restore();
    await publisher.publishConfirmed(after);
    expect(publisher.isConnected()).toBe(true);

    const confirmedIds = [...before, ...after].map((message) => message.messageId);
    const arrived = await newOrders.waitForMessageIds(confirmedIds, DELIVERY_TIMEOUT_MS);
    expect(describeOrderMismatch(arrived, confirmedIds)).toBeUndefined();
    const lost = logger.find('warn', 'RabbitMQ connection lost');
    expect(lost).toBeDefined();
    const failed = logger.find('warn', 'RabbitMQ did not confirm published messages');
    expect(failed?.context).toMatchObject({ messageCount: during.length });
    expect((failed?.context as { messageIds?: string[] }).messageIds?.length).toBeGreaterThan(0);
    expect(logger.serialized()).not.toContain('guest:guest');
    expect(logger.serialized()).toContain('amqp://guest:***@');
  });

  it('times out when the broker stalls', async () => {
    const proxy = await startProxy();
    const newOrders = await collect(NEW_ORDERS_QUEUE);
    const logger = new RecordingLogger();
    const publisher = createPublisher({
      url: amqpUrl(testVhost.vhost, proxy.port),
      logger,
      confirmTimeoutMs: CONFIRM_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    });
    const before = [orderCreated()];
    const stalled = [orderCreated(), orderCreated()];
    const after = [orderCreated()];

    await publisher.publishConfirmed(before);
    proxy.stall();
    const startedAt = Date.now();
    await expect(publisher.publishConfirmed(stalled)).rejects.toThrow(/timed out/);
    const elapsed = Date.now() - startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(CONFIRM_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(CONFIRM_TIMEOUT_MS + 1_000);
    expect(publisher.isConnected()).toBe(false);
    const failed = logger.find('warn', 'RabbitMQ did not confirm published messages');
    expect(failed?.context).toMatchObject({ messageIds: stalled.map((message) => message.messageId) });

    proxy.restore();
    await publisher.publishConfirmed(after);
    expect(publisher.isConnected()).toBe(true);

    const confirmedIds = [...before, ...after].map((message) => message.messageId);
    const arrived = await newOrders.waitForMessageIds(confirmedIds, DELIVERY_TIMEOUT_MS);
    expect(describeOrderMismatch(arrived, confirmedIds)).toBeUndefined();
  });

  it('rejects on nack, keeps connection', async () => {
    // A separate vhost, because the policy applies to every queue it matches in the vhost.
    const nackVhost = await createTestVhost();
    cleanups.push(() => nackVhost.remove());
    await runRabbitmqctl([
      'set_policy', '-p', nackVhost.vhost, '--apply-to', 'queues', 'reject-when-full',
      `^${NEW_ORDERS_QUEUE}$`, '{"max-length":1,"overflow":"reject-publish"}',
    ]);
    const logger = new RecordingLogger();
    const publisher = createPublisher({ url: nackVhost.url, logger, confirmTimeoutMs: CONFIRM_TIMEOUT_MS });
    const batch = [orderCreated(), orderCreated(), orderCreated()];

    await expect(publisher.publishConfirmed(batch)).rejects.toThrow(/nacked/);

    expect(publisher.isConnected()).toBe(true);
    const rejected = logger.find('error', 'RabbitMQ rejected published messages');
    expect(rejected?.context).toMatchObject({ messageCount: 3 });
    const unconfirmedIds = (rejected?.context as { messageIds?: string[] }).messageIds;
    expect(unconfirmedIds).not.toContain(batch[0]?.messageId);
    expect(unconfirmedIds).toContain(batch[1]?.messageId);
  });

  it('rejects when broker is unreachable', async () => {
    const proxy = await startProxy();
    proxy.cut();
    const logger = new RecordingLogger();
    const publisher = createPublisher({ url: amqpUrl(testVhost.vhost, proxy.port), logger, connectTimeoutMs: CONNECT_TIMEOUT_MS });

    await expect(publisher.connect()).rejects.toThrow();

    expect(publisher.isConnected()).toBe(false);
    expect(logger.find('warn', 'failed to connect to RabbitMQ')).toBeDefined();
  });

  it('times out connecting to a stalled broker', async () => {
    const proxy = await startProxy();
    proxy.stall();
    const logger = new RecordingLogger();
    const publisher = createPublisher({ url: amqpUrl(testVhost.vhost, proxy.port), logger, connectTimeoutMs: CONNECT_TIMEOUT_MS });

    const startedAt = Date.now();
    await expect(publisher.connect()).rejects.toThrow(/timed out|ETIMEDOUT/);
    expect(Date.now() - startedAt).toBeLessThan(CONNECT_TIMEOUT_MS + 1_000);
    expect(publisher.isConnected()).toBe(false);
    expect(logger.find('warn', 'failed to connect to RabbitMQ')).toBeDefined();

    proxy.restore();
    await publisher.connect();
    expect(publisher.isConnected()).toBe(true);
  });

  it('rejects calls after close', async () => {
    const publisher = createPublisher({ logger: new RecordingLogger() });
    await publisher.connect();

    await publisher.close();
    await publisher.close();

    expect(publisher.isConnected()).toBe(false);
    await expect(publisher.publishConfirmed([orderCreated()])).rejects.toThrow('RabbitMQ publisher is closed');
  });
});

type LogEntry = { readonly level: string; readonly context: object; readonly message: string };

/** Logger that keeps every entry in memory, with child bindings merged into the context. */
class RecordingLogger implements Logger {
  constructor(
    private readonly entries: LogEntry[] = [],
    private readonly bindings: object = {},
  ) {}

  debug(context: object, message: string): void {
    this.record('debug', context, message);
  }
  info(context: object, message: string): void {
    this.record('info', context, message);
  }
  warn(context: object, message: string): void {
    this.record('warn', context, message);
  }
  error(context: object, message: string): void {
    this.record('error', context, message);
  }
  child(bindings: object): Logger {
    return new RecordingLogger(this.entries, { ...this.bindings, ...bindings });
  }

  find(level: string, message: string): LogEntry | undefined {
    return this.entries.find((entry) => entry.level === level && entry.message === message);
  }

  /** Serializes every entry, errors included, as JSON to search for leaked secrets. */
  serialized(): string {
    return JSON.stringify(this.entries, (_key, value: unknown) =>
      value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value,
    );
  }

  private record(level: string, context: object, message: string): void {
    this.entries.push({ level, context: { ...this.bindings, ...context }, message });
  }
}

function orderCreated(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  const messageId = randomUUID();
  return {
    routingKey: ORDER_CREATED_ROUTING_KEY,
    messageId,
    type: 'OrderCreated',
    correlationId: undefined,
    timestamp: Date.now(),
    body: { order_id: 1, user_id: 2, status: 'pending', event_id: messageId },
    ...overrides,
  };
}

function statusChanged(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  const messageId = randomUUID();
  return {
    routingKey: ORDER_STATUS_CHANGED_ROUTING_KEY,
    messageId,
    type: 'OrderStatusChanged',
    correlationId: undefined,
    timestamp: Date.now(),
    body: { order_id: 1, status: 'paid', previous_status: 'pending', updated_at: '2024-05-01T12:30:15.000Z', event_id: messageId },
    ...overrides,
  };
}

/** Returns amqplib's ConfirmChannel class, whose type declarations are not published. */
function amqplibConfirmChannel(): { prototype: { publish(...args: unknown[]): boolean } } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const channelModel = require('amqplib/lib/channel_model') as { ConfirmChannel: { prototype: { publish(...args: unknown[]): boolean } } };
  return channelModel.ConfirmChannel;
}

/**
 * Compares the arrival order of the messages whose ids are in `ids` with `ids`. Describes the first
 * difference, which reads better than a diff of thousands of ids, or returns undefined on a match.
 */
function describeOrderMismatch(messages: readonly CollectedMessage[], ids: readonly string[]): string | undefined {
  const expected = new Set(ids);
  const arrivedIds = messages.map((message) => message.messageId).filter((messageId) => messageId !== undefined && expected.has(messageId));

  const mismatchIndex = ids.findIndex((messageId, index) => arrivedIds[index] !== messageId);
  if (mismatchIndex !== -1) {
    return `position ${mismatchIndex}: expected ${ids[mismatchIndex]}, received ${arrivedIds[mismatchIndex]}`;
  }
  if (arrivedIds.length !== ids.length) {
    return `expected ${ids.length} messages, received ${arrivedIds.length} (duplicates)`;
  }
  return undefined;
}
