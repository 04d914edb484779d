import { createTestVhost, describeWithRabbitMq, type TestVhost } from '../../support/rabbitMq';
import { testBackends, type BackendInstance } from '../../support/backends';
import { makeDataDir, removeDataDir, startTestApp, type TestApp, type TestResponse } from '../../support/testApp';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const BCRYPT_HASH = /\$2[aby]\$/;

for (const backend of testBackends()) describeWithRabbitMq(`audit history on ${backend.name}`, () => {
  let vhost: TestVhost;
  let servers: BackendInstance;
  let app: TestApp;
  let userId: number;
  let productId: number;
  let orderId: number;
  /** The order as GET returned it after each event, indexed by revision. */
  const orderSnapshots: unknown[] = [];

  beforeAll(async () => {
    vhost = await createTestVhost();
    const dataDir = makeDataDir();
    servers = await backend.setUp(dataDir);
    app = await startTestApp({ rabbitMqUrl: vhost.url, dataDir, env: servers.env });

    const user = await send('POST', '/users/', { email: 'auditor@example.com', username: 'auditor', password: 'password1' }, 'audit-register', 201);
    userId = user.body.id;
    await send('PUT', `/users/${userId}`, { email: 'audited@example.com', password: 'password2' }, 'audit-user-update', 200);

    const product = await send(
      'POST',
      '/products/',
      { name: 'Ledger', description: 'A book', price: 12.5, quantity: 4, shop_id: 1, category_id: 2 },
      'audit-product-create',
      201,
    );
    productId = product.body.id;
    await send('PUT', `/products/${productId}`, { price: 14 }, 'audit-product-update', 200);
    await send('DELETE', `/products/${productId}`, undefined, 'audit-product-delete', 200);

    const order = await send('POST', '/orders/', { customer_id: userId, total_amount: 120.5 }, 'audit-order-create', 201);
    orderId = order.body.id;
    orderSnapshots.push((await app.request('GET', `/orders/${orderId}`)).body);
    await send('PUT', `/orders/${orderId}/status`, { status: 'processed' }, 'audit-processed', 200);
    orderSnapshots.push((await app.request('GET', `/orders/${orderId}`)).body);
    await send('PUT', `/orders/${orderId}/status`, { status: 'delivered' }, 'audit-forbidden-move', 409);
    await send('PUT', `/orders/${orderId}/status`, { status: 'lost' }, 'audit-invalid-status', 400);
    await send('POST', '/orders/', { customer_id: userId, total_amount: -1 }, 'audit-invalid-order', 400);
    await send('PUT', `/orders/${orderId}/status`, { status: 'shipped' }, 'audit-shipped', 200);
    orderSnapshots.push((await app.request('GET', `/orders/${orderId}`)).body);
    await send('PUT', `/orders/${orderId}/status`, { status: 'shipped' }, 'audit-shipped-again', 200);

    await send('DELETE', `/users/${userId}`, undefined, 'audit-user-delete', 200);
  });

  afterAll(async () => {
    await app?.stop();
    await servers?.tearDown();
    await vhost?.remove();
    if (app !== undefined) removeDataDir(app.dataDir);
  });

  /** Sends one request with a chosen request id and checks its status. */
  async function send(method: string, urlPath: string, body: unknown, requestId: string, status: number): Promise<TestResponse> {
    const response = await app.request(method, urlPath, body, { 'x-request-id': requestId });
    expect({ request: `${method} ${urlPath} (${requestId})`, status: response.status }).toEqual({ request: expect.any(String), status });
    return response;
  }

  it('order history lists the accepted commands', async () => {
    const history = await app.request('GET', `/orders/${orderId}/history`);

    expect(history.status).toBe(200);
    expect(history.body.id).toBe(orderId);
    expect(history.body.stream).toBe(`order-${orderId}`);
    expect(history.body.verification).toBeUndefined();
    const events = history.body.events as any[];
    expect(events.map((event) => event.type)).toEqual(['OrderCreated', 'OrderStatusChanged', 'OrderStatusChanged']);
    expect(events.map((event) => event.revision)).toEqual([0, 1, 2]);
    expect(events[0].data).toEqual({ order_id: orderId, customer_id: userId, total_amount: 120.5, status: 'pending', created_at: expect.stringMatching(ISO_TIME) });
    expect(events.slice(1).map((event) => [event.data.from, event.data.to])).toEqual([
      ['pending', 'processed'],
      ['processed', 'shipped'],
    ]);
    expect(events.map((event) => event.metadata.correlation_id)).toEqual(['audit-order-create', 'audit-processed', 'audit-shipped']);
  });

  it('events carry position, time and chained metadata', async () => {
    const { body } = await app.request('GET', `/orders/${orderId}/history`);
    const events = body.events as any[];

    for (const event of events) {
      expect(Object.keys(event).sort()).toEqual(['data', 'event_id', 'metadata', 'position', 'recorded_at', 'revision', 'type']);
      expect(event.position).toMatch(/^(0|[1-9][0-9]*)$/);
      expect(event.recorded_at).toMatch(ISO_TIME);
      expect(event.metadata).toEqual({
        correlation_id: expect.any(String),
        causation_id: expect.any(String),
        occurred_at: expect.stringMatching(ISO_TIME),
        previous_hash: event.revision === 0 ? null : expect.stringMatching(HEX_SHA256),
        hash: expect.stringMatching(HEX_SHA256),
      });
    }
    const positions = events.map((event) => BigInt(event.position));
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
    expect(new Set(positions).size).toBe(positions.length);
    expect(events[0].metadata.previous_hash).toBeNull();
    expect(events[1].metadata.previous_hash).toBe(events[0].metadata.hash);
    expect(events[2].metadata.previous_hash).toBe(events[1].metadata.hash);
  });

  it('rejected commands leave no trace', async () => {
    const log = await servers.readLog();
    const rejectedRequests = ['audit-forbidden-move', 'audit-invalid-status', 'audit-invalid-order', 'audit-shipped-again'];

    expect(log.filter((event) => rejectedRequests.includes(event.metadata.correlation_id as string))).toEqual([]);
    const orderEvents = log.filter((event) => event.streamId === `order-${orderId}`);
    expect(orderEvents.map((event) => event.data.to).filter((to) => to !== undefined)).toEqual(['processed', 'shipped']);
  });

  it('user history keeps a deleted user and redacts password hashes', async () => {
    const history = await app.request('GET', `/users/${userId}/history`);

    expect(history.status).toBe(200);
    expect((await app.request('GET', `/users/${userId}`)).status).toBe(404);
    expect(history.body.stream).toBe(`user-${userId}`);
    const events = history.body.events as any[];
    expect(events.map((event) => event.type)).toEqual(['UserRegistered', 'UserUpdated', 'UserDeleted']);
    expect(events[0].data).toEqual({
      user_id: userId,
      email: 'auditor@example.com',
      username: 'auditor',
      password_hash: '[redacted]',
      registered_at: expect.stringMatching(ISO_TIME),
    });
    expect(events[1].data).toMatchObject({ email: 'audited@example.com', password_hash: '[redacted]' });
    expect(history.text).not.toMatch(BCRYPT_HASH);
  });

  it('product history keeps a deleted product', async () => {
    const history = await app.request('GET', `/products/${productId}/history`);

    expect(history.status).toBe(200);
    expect((await app.request('GET', `/products/${productId}`)).status).toBe(404);
    expect(history.body.events.map((event: any) => event.type)).toEqual(['ProductCreated', 'ProductUpdated', 'ProductDeleted']);
    expect(history.body.events[1].data).toEqual({ product_id: productId, price: 14, updated_at: expect.stringMatching(ISO_TIME) });
  });

  it('verify=true reports valid chains', async () => {
    for (const urlPath of [`/orders/${orderId}/history`, `/users/${userId}/history`, `/products/${productId}/history`]) {
      const history = await app.request('GET', `${urlPath}?verify=true`);

      expect({ urlPath, status: history.status }).toEqual({ urlPath, status: 200 });
      expect(history.body.verification).toEqual({ valid: true });
    }
    const unverified = await app.request('GET', `/orders/${orderId}/history?verify=false`);
    expect(unverified.body.verification).toBeUndefined();
  });

  it('history of unknown streams is 404', async () => {
    for (const urlPath of ['/orders/999999/history', '/users/999999/history', '/products/999999/history']) {
      const response = await app.request('GET', urlPath);

      expect({ urlPath, status: response.status }).toEqual({ urlPath, status: 404 });
      expect(response.body).toEqual({ status: 'error', error: { code: 'not_found', message: expect.stringMatching(/does not exist/) } });
    }
  });

  it('history rejects bad input', async () => {
    const badId = await app.request('GET', '/orders/abc/history');
    expect(badId.status).toBe(400);
    expect(badId.body.error.details).toEqual([{ field: 'order_id', message: expect.any(String) }]);

    const badVerify = await app.request('GET', `/orders/${orderId}/history?verify=yes`);
    expect(badVerify.status).toBe(400);
    expect(badVerify.body.error.details).toEqual([{ field: 'verify', message: expect.stringMatching(/true or false/) }]);

    const unknown = await app.request('GET', `/orders/${orderId}/history?limit=1`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([{ field: 'limit', message: expect.stringMatching(/allowed: verify/) }]);

    const post = await app.request('POST', `/orders/${orderId}/history`, {});
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('history path takes a trailing slash', async () => {
    const history = await app.request('GET', `/orders/${orderId}/history/`);

    expect(history.status).toBe(200);
    expect(history.body.events).toHaveLength(3);
  });

  it('revision returns the state after each event', async () => {
    for (const [revision, snapshot] of orderSnapshots.entries()) {
      const state = await app.request('GET', `/orders/${orderId}?revision=${revision}`);

      expect({ revision, status: state.status }).toEqual({ revision, status: 200 });
      expect(state.body).toEqual(snapshot);
      expect(state.headers.get('etag')).toBe(`"${revision}"`);
      expect(state.headers.get('x-revision')).toBe(String(revision));
    }
  });

  it('as_of returns the state at each event time', async () => {
    const { body } = await app.request('GET', `/orders/${orderId}/history`);
    const times = (body.events as any[]).map((event) => event.metadata.occurred_at as string);

    for (const time of times) {
      // Two events may share a millisecond; the state at that time includes both.
      const expectedRevision = times.filter((other) => Date.parse(other) <= Date.parse(time)).length - 1;
      const state = await app.request('GET', `/orders/${orderId}?as_of=${encodeURIComponent(time)}`);

      expect({ time, status: state.status }).toEqual({ time, status: 200 });
      expect(state.body).toEqual(orderSnapshots[expectedRevision]);
      expect(state.headers.get('x-revision')).toBe(String(expectedRevision));
    }
  });

  it('as_of takes a zone offset', async () => {
    const latest = await app.request('GET', `/orders/${orderId}?as_of=${encodeURIComponent('2999-01-01T01:00:00+01:00')}`);

    expect(latest.status).toBe(200);
    expect(latest.body).toEqual(orderSnapshots[2]);
    expect(latest.headers.get('etag')).toBe('"2"');
  });

  it('state before creation or past the end is 404', async () => {
    const { body } = await app.request('GET', `/orders/${orderId}/history`);
    const before = new Date(Date.parse(body.events[0].metadata.occurred_at) - 1).toISOString();

    const early = await app.request('GET', `/orders/${orderId}?as_of=${before}`);
    expect(early.status).toBe(404);
    expect(early.body.error).toEqual({ code: 'not_found', message: expect.stringMatching(/did not exist at .*first event occurred at/) });

    const late = await app.request('GET', `/orders/${orderId}?revision=3`);
    expect(late.status).toBe(404);
    expect(late.body.error).toEqual({ code: 'not_found', message: expect.stringMatching(/revisions 0 to 2; revision 3 does not exist/) });

    const unknownOrder = await app.request('GET', '/orders/999999?revision=0');
    expect(unknownOrder.status).toBe(404);
  });

  it('state rejects invalid query parameters', async () => {
    const cases: Array<[string, string[]]> = [
      ['as_of=yesterday', ['as_of']],
      ['as_of=2026-03-01', ['as_of']],
      ['as_of=2026-03-01T10:00:00+01:00', ['as_of']],
      ['revision=-1', ['revision']],
      ['revision=1.5', ['revision']],
      ['revision=', ['revision']],
      ['revision=1&revision=2', ['revision']],
      ['revision=1&as_of=2026-03-01T09:00:00Z', ['as_of', 'revision']],
      ['at=1', ['at']],
    ];

    for (const [query, fields] of cases) {
      const response = await app.request('GET', `/orders/${orderId}?${query}`);

      expect({ query, status: response.status, code: response.body.error.code }).toEqual({ query, status: 400, code: 'validation_failed' });
      expect(response.body.error.details.map((detail: any) => detail.field)).toEqual(fields);
    }
    const spaceInZone = await app.request('GET', `/orders/${orderId}?as_of=2026-03-01T10:00:00+01:00`);
    expect(spaceInZone.body.error.message).toMatch(/%2B/);
  });

  it('GET without parameters reads the read model', async () => {
    const current = await app.request('GET', `/orders/${orderId}`);

    expect(current.status).toBe(200);
    expect(current.body).toEqual(orderSnapshots[2]);
    expect(current.headers.get('etag')).toBe('"2"');
    expect(current.headers.get('x-revision')).toBeNull();
  });
});
