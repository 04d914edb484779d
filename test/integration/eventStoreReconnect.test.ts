import { NEW_ORDERS_QUEUE } from '../../src/infrastructure/messaging/RabbitMqPublisher';
import { EsdbTestServer, type RunningEsdbTestServer } from '../support/esdbTestServer/server';
import { collectMessages, createTestVhost, describeWithRabbitMq, type MessageCollector, type TestVhost } from '../support/rabbitMq';
import { makeDataDir, removeDataDir, startTestApp, waitUntil, type TestApp } from '../support/testApp';

/** Orders accepted before the server stops, and again after it restarts; failures required while it is down. */
const ORDERS_BEFORE_OUTAGE = 10;
const FAILED_REQUESTS_DURING_OUTAGE = 5;
const ORDERS_AFTER_OUTAGE = 10;

describeWithRabbitMq('EventStoreDB outage during writes', () => {
  let vhost: TestVhost;
  let eventStore: RunningEsdbTestServer;
  let newOrders: MessageCollector;
  let app: TestApp;

  beforeAll(async () => {
    vhost = await createTestVhost();
    newOrders = await collectMessages(vhost.url, NEW_ORDERS_QUEUE);
    eventStore = await new EsdbTestServer({ batchAppend: true }).start();
    app = await startTestApp({
      rabbitMqUrl: vhost.url,
      dataDir: makeDataDir(),
      env: { EVENTSTORE_CONNECTION_STRING: eventStore.connectionString },
    });
  });

  afterAll(async () => {
    await app?.stop();
    await eventStore?.stop();
    await newOrders?.close();
    await vhost?.remove();
    if (app !== undefined) removeDataDir(app.dataDir);
  });

  it('answers 503 while down and recovers', async () => {
    const customer = await app.request('POST', '/users/', { email: 'esdb-outage@example.com', username: 'esdbout', password: 'password1' });
    expect(customer.status).toBe(201);

    // One writer keeps creating orders while the server goes down and comes back.
    const outcomes: Array<{ status: number; orderId?: number; durationMs: number; retryAfter: string | null }> = [];
    let writing = true;
    const writer = (async () => {
      for (let amount = 1; writing && amount <= 2000; amount++) {
        const startedAt = Date.now();
        const response = await app.request('POST', '/orders/', { customer_id: customer.body.id, total_amount: amount });
        outcomes.push({
          status: response.status,
          orderId: response.status === 201 ? response.body.id : undefined,
          durationMs: Date.now() - startedAt,
          retryAfter: response.headers.get('retry-after'),
        });
      }
    })();
    const count = (status: number): number => outcomes.filter((outcome) => outcome.status === status).length;

    await waitUntil(() => count(201) >= ORDERS_BEFORE_OUTAGE, 30_000, 'orders were created before the outage');
    await eventStore.stop();
    await waitUntil(() => count(503) >= FAILED_REQUESTS_DURING_OUTAGE, 60_000, 'requests failed during the outage');
    const unready = await app.request('GET', '/health/ready');
    const acceptedBeforeRestart = count(201);
    await eventStore.restart();
    await waitUntil(() => count(201) >= acceptedBeforeRestart + ORDERS_AFTER_OUTAGE, 60_000, 'orders were created after the restart');
    writing = false;
    await writer;

    expect(unready.status).toBe(503);
    expect(unready.body.dependencies.event_store.status).toBe('down');
    expect(outcomes.map((outcome) => outcome.status).filter((status) => status !== 201 && status !== 503)).toEqual([]);
    for (const failure of outcomes.filter((outcome) => outcome.status === 503)) {
      expect(failure.retryAfter).toMatch(/^\d+$/);
      expect(failure.durationMs).toBeLessThan(15_000);
    }

    const accepted = outcomes.flatMap((outcome) => (outcome.orderId === undefined ? [] : [outcome.orderId]));
    for (const orderId of accepted) {
      expect((await app.request('GET', `/orders/${orderId}`)).status).toBe(200);
    }
    const listed = await app.request('GET', `/orders/user/${customer.body.id}`);
    const listedIds: number[] = listed.body.map((order: { id: number }) => order.id);
    expect(new Set(listedIds).size).toBe(listedIds.length);
    expect(listedIds).toEqual(expect.arrayContaining(accepted));

    const messages = await newOrders.waitForCount(listedIds.length, 30_000);
    const publishedOrderIds = new Set(messages.map((message) => (message.body as { id: number }).id));
    expect([...publishedOrderIds].sort((left, right) => left - right)).toEqual([...listedIds].sort((left, right) => left - right));
  });
});
