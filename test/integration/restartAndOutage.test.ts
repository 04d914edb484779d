import { NEW_ORDERS_QUEUE, ORDER_UPDATES_QUEUE } from '../../src/infrastructure/messaging/RabbitMqPublisher';
import { amqpUrl, collectMessages, createTestVhost, describeWithRabbitMq, RABBITMQ_PORT, type TestVhost } from '../support/rabbitMq';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy';
import { testBackends, type BackendInstance } from '../support/backends';
import { makeDataDir, removeDataDir, startTestApp, waitUntil, type TestApp } from '../support/testApp';

for (const backend of testBackends()) describeWithRabbitMq(`restart and broker outage on ${backend.name}`, () => {
  let vhost: TestVhost;
  let servers: BackendInstance;
  let dataDir: string;
  const started: TestApp[] = [];

  beforeEach(async () => {
    vhost = await createTestVhost();
    dataDir = makeDataDir();
    servers = await backend.setUp(dataDir);
  });

  afterEach(async () => {
    for (const app of started.splice(0)) await app.stop();
    await servers.tearDown();
    removeDataDir(dataDir);
    await vhost.remove();
  });

  it('restart keeps data and ids', async () => {
    const newOrders = await collectMessages(vhost.url, NEW_ORDERS_QUEUE);
    const orderUpdates = await collectMessages(vhost.url, ORDER_UPDATES_QUEUE);
    try {
      const first = await startTestApp({ rabbitMqUrl: vhost.url, dataDir, env: servers.env });
      const user = await first.request('POST', '/users/', { email: 'keep@example.com', username: 'keeper', password: 'password1' });
      const product = await first.request('POST', '/products/', {
        name: 'Lamp',
        description: 'A desk lamp',
        price: 19.99,
        quantity: 3,
        shop_id: 2,
        category_id: 5,
      });
      const order = await first.request('POST', '/orders/', { customer_id: user.body.id, total_amount: 19.99 });
      await first.request('PUT', `/orders/${order.body.id}/status`, { status: 'processed' });
      await newOrders.waitForCount(1, 10_000);
      await orderUpdates.waitForCount(1, 10_000);
      const before = {
        user: (await first.request('GET', `/users/${user.body.id}`)).body,
        product: (await first.request('GET', `/products/${product.body.id}`)).body,
        order: (await first.request('GET', `/orders/${order.body.id}`)).body,
      };
      await first.stop();

      const second = await startTestApp({ rabbitMqUrl: vhost.url, dataDir, env: servers.env });
      started.push(second);

      expect((await second.request('GET', `/users/${user.body.id}`)).body).toEqual(before.user);
      expect((await second.request('GET', `/products/${product.body.id}`)).body).toEqual(before.product);
      expect((await second.request('GET', `/orders/${order.body.id}`)).body).toEqual(before.order);
      const nextUser = await second.request('POST', '/users/', { email: 'next@example.com', username: 'nextone', password: 'password1' });
      expect(nextUser.body.id).toBe(user.body.id + 1);
      const nextOrder = await second.request('POST', '/orders/', { customer_id: nextUser.body.id, total_amount: 1 });
      expect(nextOrder.body.id).toBe(order.body.id + 1);

      // The new order's message proves the relay is running; the old ones must not come again.
      await newOrders.waitForCount(2, 10_000);
      await waitUntil(
        async () => (await second.request('GET', '/health/ready')).body.relay.messages_published >= 1,
        10_000,
        'the restarted relay published the new order',
      );
      expect(newOrders.messages.map((message) => message.body)).toEqual([
        expect.objectContaining({ id: order.body.id }),
        expect.objectContaining({ id: nextOrder.body.id }),
      ]);
      expect(orderUpdates.messages).toHaveLength(1);
    } finally {
      await newOrders.close();
      await orderUpdates.close();
    }
  });

  it('broker outage loses no message', async () => {
    let proxy: TcpProxy | undefined;
    const newOrders = await collectMessages(vhost.url, NEW_ORDERS_QUEUE);
    try {
      proxy = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: RABBITMQ_PORT });
      const app = await startTestApp({ rabbitMqUrl: amqpUrl(vhost.vhost, proxy.port), dataDir, env: servers.env });
      started.push(app);
      const customer = await app.request('POST', '/users/', { email: 'outage@example.com', username: 'outage', password: 'password1' });

      proxy.cut();
      const created = [];
      for (let index = 0; index < 50; index++) {
        const response = await app.request('POST', '/orders/', { customer_id: customer.body.id, total_amount: index + 1 });
        expect(response.status).toBe(201);
        created.push(response.body.id as number);
      }
      const ready = await app.request('GET', '/health/ready');
      expect(ready.body.dependencies.message_broker.status).toBe('down');
      proxy.restore();

      const messages = await newOrders.waitForCount(50, 30_000);
      const messageIds = new Set(messages.map((message) => message.messageId));
      const orderIds = new Set(messages.map((message) => (message.body as { id: number }).id));
      expect([...orderIds].sort((left, right) => left - right)).toEqual(created);
      for (const message of messages) {
        expect(message.messageId).toBe((message.body as { event_id: string }).event_id);
      }
      // Redelivery after an outage repeats message ids; it never invents new ones.
      expect(messageIds.size).toBe(orderIds.size);
    } finally {
      await newOrders.close();
      await proxy?.close();
    }
  });
});
