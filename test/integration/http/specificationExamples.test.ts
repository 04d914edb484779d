import { NEW_ORDERS_QUEUE, ORDER_UPDATES_QUEUE } from '../../../src/infrastructure/messaging/RabbitMqPublisher';
import { collectMessages, createTestVhost, describeWithRabbitMq, type MessageCollector, type TestVhost } from '../../support/rabbitMq';
import { testBackends, type BackendInstance } from '../../support/backends';
import { makeDataDir, removeDataDir, startTestApp, waitUntil, type TestApp } from '../../support/testApp';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

for (const backend of testBackends()) describeWithRabbitMq(`specification examples on ${backend.name}`, () => {
  let vhost: TestVhost;
  let app: TestApp;
  let servers: BackendInstance;
  let newOrders: MessageCollector;
  let orderUpdates: MessageCollector;

  beforeAll(async () => {
    vhost = await createTestVhost();
    newOrders = await collectMessages(vhost.url, NEW_ORDERS_QUEUE);
    orderUpdates = await collectMessages(vhost.url, ORDER_UPDATES_QUEUE);
    const dataDir = makeDataDir();
    servers = await backend.setUp(dataDir);
    app = await startTestApp({ rabbitMqUrl: vhost.url, dataDir, env: servers.env });
  });

  afterAll(async () => {
    await app?.stop();
    await servers?.tearDown();
    await newOrders?.close();
    await orderUpdates?.close();
    await vhost?.remove();
    if (app !== undefined) removeDataDir(app.dataDir);
  });

  it('runs every example in order', async () => {
    const createdUser = await app.request('POST', '/users/', { email: 'user@example.com', username: 'user', password: 'password' });
    expect(createdUser.status).toBe(201);
    expect(createdUser.body).toEqual({ status: 'user created', id: 1 });
    expect(createdUser.headers.get('location')).toBe('/users/1');

    const user = await app.request('GET', '/users/1');
    expect(user.status).toBe(200);
    expect(user.body).toEqual({
      status: 'success',
      data: { id: 1, email: 'user@example.com', username: 'user', created_at: expect.stringMatching(ISO_TIME), updated_at: expect.stringMatching(ISO_TIME) },
    });
    expect(user.headers.get('etag')).toBe('"0"');

    const updatedUser = await app.request('PUT', '/users/1', { email: 'newemail@example.com', username: 'newuser', password: 'newpassword' });
    expect(updatedUser.status).toBe(200);
    expect(updatedUser.body).toEqual({
      status: 'success',
      data: { id: 1, email: 'newemail@example.com', username: 'newuser', created_at: user.body.data.created_at, updated_at: expect.stringMatching(ISO_TIME) },
    });

    const productBody = { name: 'Product Name', description: 'Product Description', price: 100, quantity: 10, shop_id: 1, category_id: 1 };
    const createdProduct = await app.request('POST', '/products/', productBody);
    expect(createdProduct.status).toBe(201);
    expect(createdProduct.body).toEqual({ status: 'product created', id: 1 });
    expect(createdProduct.headers.get('location')).toBe('/products/1');

    const product = await app.request('GET', '/products/1');
    expect(product.status).toBe(200);
    expect(product.body).toEqual({ id: 1, ...productBody, created_at: expect.stringMatching(ISO_TIME), updated_at: expect.stringMatching(ISO_TIME) });

    const productUpdate = { name: 'New Product Name', description: 'New Description', price: 150, quantity: 20 };
    const updatedProduct = await app.request('PUT', '/products/1', productUpdate);
    expect(updatedProduct.status).toBe(200);
    expect(updatedProduct.body).toEqual({ status: 'product updated' });
    const productAfterUpdate = await app.request('GET', '/products/1');
    expect(productAfterUpdate.body).toMatchObject({ ...productUpdate, shop_id: 1, category_id: 1 });

    const createdOrder = await app.request('POST', '/orders/', { customer_id: 1, total_amount: 500 });
    expect(createdOrder.status).toBe(201);
    expect(createdOrder.body).toEqual({ status: 'order created', id: 1 });
    expect(createdOrder.headers.get('location')).toBe('/orders/1');

    const order = await app.request('GET', '/orders/1');
    expect(order.status).toBe(200);
    const expectedOrder = {
      id: 1,
      customer_id: 1,
      total_amount: 500,
      status: 'pending',
      created_at: expect.stringMatching(ISO_TIME),
      updated_at: expect.stringMatching(ISO_TIME),
    };
    expect(order.body).toEqual(expectedOrder);

    const statusUpdate = await app.request('PUT', '/orders/1/status', { status: 'processed' }, { 'x-request-id': 'example-status-change' });
    expect(statusUpdate.status).toBe(200);
    expect(statusUpdate.body).toEqual({ status: 'order status updated' });

    const ordersOfUser = await app.request('GET', '/orders/user/1');
    expect(ordersOfUser.status).toBe(200);
    expect(ordersOfUser.body).toEqual([{ ...expectedOrder, status: 'processed' }]);

    const deletedProduct = await app.request('DELETE', '/products/1');
    expect(deletedProduct.status).toBe(200);
    expect(deletedProduct.body).toEqual({ status: 'product deleted' });
    expect((await app.request('GET', '/products/1')).status).toBe(404);

    const deletedUser = await app.request('DELETE', '/users/1');
    expect(deletedUser.status).toBe(200);
    expect(deletedUser.body).toEqual({ status: 'user deleted' });
    expect((await app.request('GET', '/users/1')).status).toBe(404);

    const [created] = await newOrders.waitForCount(1, 10_000);
    expect(created?.body).toEqual({ ...order.body, event_id: created?.messageId });
    expect(created?.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created?.type).toBe('OrderCreated');
    expect(created?.contentType).toBe('application/json');
    expect(created?.persistent).toBe(true);
    expect(created?.routingKey).toBe('order.created');
    expect(created?.correlationId).toBe(createdOrder.headers.get('x-request-id'));
    expect(created?.timestamp).toBe(Math.floor(Date.parse(order.body.created_at) / 1000));

    const [changed] = await orderUpdates.waitForCount(1, 10_000);
    expect(changed?.body).toEqual({
      order_id: 1,
      status: 'processed',
      previous_status: 'pending',
      updated_at: expect.stringMatching(ISO_TIME),
      event_id: changed?.messageId,
    });
    expect(changed?.type).toBe('OrderStatusChanged');
    expect(changed?.contentType).toBe('application/json');
    expect(changed?.persistent).toBe(true);
    expect(changed?.correlationId).toBe('example-status-change');

    // The relay stores its checkpoint only after the confirms; once it has published exactly
    // two messages and is idle, no retry can add a duplicate behind this assertion.
    await waitUntil(async () => (await app.request('GET', '/health/ready')).body.relay.messages_published === 2, 10_000, 'the relay published both messages');
    expect(newOrders.messages).toHaveLength(1);
    expect(orderUpdates.messages).toHaveLength(1);
  });
});
