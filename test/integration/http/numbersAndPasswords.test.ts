import { randomBytes } from 'node:crypto';
import { NEW_ORDERS_QUEUE, ORDER_UPDATES_QUEUE } from '../../../src/infrastructure/messaging/RabbitMqPublisher';
import { testBackends, type BackendInstance } from '../../support/backends';
import { collectMessages, createTestVhost, describeWithRabbitMq, type MessageCollector, type TestVhost } from '../../support/rabbitMq';
import { makeDataDir, removeDataDir, startTestApp, waitUntil, type TestApp, type TestResponse } from '../../support/testApp';

const MESSAGE_TIMEOUT_MS = 10_000;
/** A four-byte UTF-8 character that is two UTF-16 code units in a JS string. */
const EMOJI = '\u{1F600}';

type ErrorBody = { status: string; error: { code: string; message: string; details?: Array<{ field: string; message: string }> } };

const VALID_PRODUCT: Record<string, unknown> = { name: 'Mug', description: 'Tea mug', price: 7.5, quantity: 4, shop_id: 1, category_id: 1 };

/** JSON texts that must never pass as a number. `1e400` and 2^53 + 1 are sent as raw text because JSON.parse alters them. */
const NOT_A_NUMBER = ['"100"', '"19.99"', 'true', 'false', 'null', '[1]', '{}', '1e400', '-1e400'];
const UNSAFE_INTEGER = '9007199254740993';

for (const backend of testBackends()) describeWithRabbitMq(`HTTP numbers and passwords on ${backend.name}`, () => {
  let vhost: TestVhost;
  let app: TestApp;
  let servers: BackendInstance;
  let newOrders: MessageCollector;
  let orderUpdates: MessageCollector;
  /** Every response this suite received, for the check that no secret ever leaves the service. */
  const responses: TestResponse[] = [];
  let userCount = 0;

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

  async function send(method: string, urlPath: string, body?: unknown): Promise<TestResponse> {
    const response = await app.request(method, urlPath, body);
    responses.push(response);
    return response;
  }

  async function sendRaw(method: string, urlPath: string, rawBody: string): Promise<TestResponse> {
    const response = await app.requestRaw(method, urlPath, rawBody, { 'content-type': 'application/json' });
    responses.push(response);
    return response;
  }

  /** Counts events appended by commands. The relay's checkpoint stream is left out because the relay appends to it by itself after order events. */
  async function commandEventCount(): Promise<number> {
    const events = await servers.readLog();
    return events.filter((event) => !event.streamId.startsWith('checkpoints-')).length;
  }

  async function lastProductId(): Promise<number> {
    const events = await servers.readLog();
    const ids = events.filter((event) => event.type === 'ProductCreated').map((event) => event.data.product_id as number);
    return Math.max(0, ...ids);
  }

  /** Reads every stored bcrypt hash of the user from the event store, oldest first. */
  async function storedHashes(userId: number): Promise<string[]> {
    const events = await servers.readLog();
    return events
      .filter((event) => event.streamId === `user-${userId}` && event.data.password_hash !== undefined)
      .map((event) => event.data.password_hash as string);
  }

  function newUser(password: unknown): Record<string, unknown> {
    userCount += 1;
    return { email: `numbers${userCount}@example.com`, username: `numbers_${userCount}`, password };
  }

  async function createUser(password = 'password-1'): Promise<number> {
    const response = await send('POST', '/users/', newUser(password));
    expect(response.status).toBe(201);
    return (response.body as { id: number }).id;
  }

  async function createProduct(fields: Record<string, unknown> = {}): Promise<number> {
    const response = await send('POST', '/products/', { ...VALID_PRODUCT, ...fields });
    expect(response.status).toBe(201);
    return (response.body as { id: number }).id;
  }

  it('rejects invalid money amounts', async () => {
    const productId = await createProduct({ price: 12.34 });
    const customerId = await createUser();
    const before = await commandEventCount();
    const nextProductId = (await lastProductId()) + 1;

    for (const amount of [-0.004, 0.001, 0.004, 0.005, 19.999, 1.001, -0.01, -1, 1_000_000_000_000]) {
      expectValidationError(await send('POST', '/products/', { ...VALID_PRODUCT, price: amount }), ['price']);
      expectValidationError(await send('PUT', `/products/${productId}`, { price: amount }), ['price']);
      expectValidationError(await send('POST', '/orders/', { customer_id: customerId, total_amount: amount }), ['total_amount']);
    }

    expect(await commandEventCount()).toBe(before);
    expect((await send('GET', `/products/${nextProductId}`)).status).toBe(404);
    expect(((await send('GET', `/products/${productId}`)).body as { price: number }).price).toBe(12.34);
    const storedAsZero = (await servers.readLog()).filter((event) => event.type.startsWith('Product') && event.data.price === 0);
    expect(storedAsZero).toHaveLength(0);
  });

  it('rejects non-numbers and unsafe integers', async () => {
    const productId = await createProduct();
    const customerId = await createUser();
    const before = await commandEventCount();
    const cases: Array<{ method: string; path: string; base: Record<string, unknown>; fields: string[] }> = [
      { method: 'POST', path: '/products/', base: VALID_PRODUCT, fields: ['price', 'quantity', 'shop_id', 'category_id'] },
      { method: 'PUT', path: `/products/${productId}`, base: { quantity: 1 }, fields: ['price', 'quantity', 'shop_id', 'category_id'] },
      { method: 'POST', path: '/orders/', base: { customer_id: customerId, total_amount: 5 }, fields: ['customer_id', 'total_amount'] },
    ];

    for (const { method, path: urlPath, base, fields } of cases) {
      for (const field of fields) {
        for (const rawValue of [...NOT_A_NUMBER, UNSAFE_INTEGER]) {
          const response = await sendRaw(method, urlPath, jsonWithRawField(base, field, rawValue));

          expectValidationError(response, [field], `${method} ${urlPath} with ${field}: ${rawValue}`);
        }
      }
    }

    expect(await commandEventCount()).toBe(before);
  });

  it('names the allowed values', async () => {
    const productId = await createProduct();
    const before = await commandEventCount();
    const cases: Array<{ method: string; path: string; body: string; field: string; message: RegExp }> = [
      { method: 'PUT', path: `/products/${productId}`, body: '{}', field: 'body', message: /at least one of: name, description, price, quantity, shop_id, category_id$/ },
      { method: 'PUT', path: '/users/1', body: '{}', field: 'body', message: /at least one of: email, username, password$/ },
      { method: 'PUT', path: `/products/${productId}`, body: `{"quantity":${UNSAFE_INTEGER}}`, field: 'quantity', message: /9007199254740991/ },
      { method: 'POST', path: '/orders/', body: '{"customer_id":"1","total_amount":5}', field: 'customer_id', message: /must be a positive integer$/ },
      { method: 'PUT', path: `/products/${productId}`, body: '{"name":""}', field: 'name', message: /must be 1 to 200 characters$/ },
      { method: 'PUT', path: `/products/${productId}`, body: '{"price":"100"}', field: 'price', message: /at most two decimal places$/ },
    ];

    for (const { method, path: urlPath, body, field, message } of cases) {
      const response = await sendRaw(method, urlPath, body);

      expect(response.status).toBe(400);
      const details = (response.body as ErrorBody).error.details ?? [];
      expect(details.map((detail) => detail.field)).toEqual([field]);
      expect(details[0]?.message).toMatch(message);
    }
    expect(await commandEventCount()).toBe(before);
  });

  it('rejects fractional and non-positive counts', async () => {
    const productId = await createProduct();
    const customerId = await createUser();
    const before = await commandEventCount();
    const invalid: Array<[string, unknown]> = [
      ['quantity', 1.5],
      ['quantity', -1],
      ['shop_id', 0],
      ['shop_id', -3],
      ['shop_id', 2.5],
      ['category_id', 0],
      ['category_id', 1.01],
    ];

    for (const [field, value] of invalid) {
      expectValidationError(await send('POST', '/products/', { ...VALID_PRODUCT, [field]: value }), [field]);
      expectValidationError(await send('PUT', `/products/${productId}`, { [field]: value }), [field]);
    }
    for (const customer of [0, -1, 1.5]) {
      expectValidationError(await send('POST', '/orders/', { customer_id: customer, total_amount: 5 }), ['customer_id']);
    }

    expect(await commandEventCount()).toBe(before);
    expect((await send('POST', '/orders/', { customer_id: customerId, total_amount: 0 })).status).toBe(201);
  });

  it('keeps 19.99 exact', async () => {
    const productId = await createProduct({ price: 19.99 });
    const product = await send('GET', `/products/${productId}`);
    expect((product.body as { price: number }).price).toBe(19.99);
    expect(product.text).toContain('"price":19.99,');

    expect((await send('PUT', `/products/${productId}`, { price: 0.3 })).status).toBe(200);
    expect(((await send('GET', `/products/${productId}`)).body as { price: number }).price).toBe(0.3);
    const largestId = await createProduct({ price: 999_999_999_999.99 });
    expect(((await send('GET', `/products/${largestId}`)).body as { price: number }).price).toBe(999_999_999_999.99);

    const customerId = await createUser();
    const created = await send('POST', '/orders/', { customer_id: customerId, total_amount: 19.99 });
    expect(created.status).toBe(201);
    const orderId = (created.body as { id: number }).id;
    const order = await send('GET', `/orders/${orderId}`);
    expect((order.body as { total_amount: number }).total_amount).toBe(19.99);
    expect(order.text).toContain('"total_amount":19.99,');

    await waitUntil(() => newOrders.messages.some((message) => (message.body as { id: number }).id === orderId), MESSAGE_TIMEOUT_MS, `order ${orderId} reached new_orders`);
    const message = newOrders.messages.find((candidate) => (candidate.body as { id: number }).id === orderId);
    expect((message?.body as { total_amount: number }).total_amount).toBe(19.99);
  });

  it('enforces password byte limits', async () => {
    expect(Buffer.byteLength(EMOJI.repeat(19), 'utf8')).toBe(76);
    expect(EMOJI.repeat(19)).toHaveLength(38);
    const before = await commandEventCount();
    const rejected: unknown[] = ['a'.repeat(73), EMOJI.repeat(19), 'a'.repeat(7), '\u00e9'.repeat(37), '', 12345678, null, ['password-1']];

    for (const password of rejected) {
      expectValidationError(await send('POST', '/users/', newUser(password)), ['password']);
    }
    expect(await commandEventCount()).toBe(before);

    for (const password of ['a'.repeat(72), EMOJI.repeat(18), 'a'.repeat(8), '\u00e9'.repeat(4)]) {
      const response = await send('POST', '/users/', newUser(password));

      expect({ password, status: response.status }).toEqual({ password, status: 201 });
    }
  });

  it('rejects bad password updates', async () => {
    const userId = await createUser();
    const hashBefore = (await storedHashes(userId)).at(-1);
    const before = await commandEventCount();

    for (const password of ['short', 'a'.repeat(73), EMOJI.repeat(19), 42]) {
      expectValidationError(await send('PUT', `/users/${userId}`, { password }), ['password']);
      expectValidationError(await send('PUT', `/users/${userId}`, { username: 'renamed_user', password }), ['password']);
    }

    expect(await commandEventCount()).toBe(before);
    expect((await storedHashes(userId)).at(-1)).toBe(hashBefore);
    expect(((await send('GET', `/users/${userId}`)).body as { data: { username: string } }).data.username).not.toBe('renamed_user');
  });

  it('never exposes passwords or hashes', async () => {
    const marker = randomBytes(6).toString('hex');
    const passwords = [`Plain-${marker}-first`, `Plain-${marker}-second`, `Plain-${marker}-updated`];
    const rejectedPasswords = [`Plain-${marker}-dup`, `Plain-${marker}-bademail`, `Plain-${marker}-badjson`];

    const firstId = await createUser(passwords[0]);
    const secondId = await createUser(passwords[1]);
    expect((await send('PUT', `/users/${firstId}`, { password: passwords[2] })).status).toBe(200);
    expect((await send('PUT', `/users/${secondId}`, { username: `renamed_${marker}` })).status).toBe(200);
    expect((await send('GET', `/users/${firstId}`)).status).toBe(200);
    const duplicate = await send('POST', '/users/', { email: `numbers${userCount}@example.com`, username: `fresh_${marker}`, password: rejectedPasswords[0] });
    expect(duplicate.status).toBe(409);
    expectValidationError(await send('POST', '/users/', { email: 'not-an-email', username: `bad_${marker}`, password: rejectedPasswords[1] }), ['email']);
    expect((await sendRaw('POST', '/users/', `{"email":"x@example.com","password":"${rejectedPasswords[2]}"`)).status).toBe(400);

    const created = await send('POST', '/orders/', { customer_id: firstId, total_amount: 3 });
    const orderId = (created.body as { id: number }).id;
    expect((await send('PUT', `/orders/${orderId}/status`, { status: 'processed' })).status).toBe(200);
    await waitUntil(
      () =>
        newOrders.messages.some((message) => (message.body as { id: number }).id === orderId) &&
        orderUpdates.messages.some((message) => (message.body as { order_id: number }).order_id === orderId),
      MESSAGE_TIMEOUT_MS,
      `both messages of order ${orderId} arrived`,
    );

    const hashes = [...(await storedHashes(firstId)), ...(await storedHashes(secondId))];
    expect(hashes).toHaveLength(3);
    for (const hash of hashes) expect(hash).toMatch(/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/);

    // The 53 characters after the cost are salt and digest: a leak without the prefix is still a leak.
    const secrets = [...passwords, ...rejectedPasswords, ...hashes, ...hashes.map((hash) => hash.slice(7))];
    const texts = [
      ...app.logLines.map((line) => ({ source: 'log line', text: line })),
      ...responses.map((response) => ({ source: 'response', text: response.text })),
      ...[...newOrders.messages, ...orderUpdates.messages].map((message) => ({ source: 'message', text: JSON.stringify(message.body) })),
    ];
    expect(app.logLines.length).toBeGreaterThan(0);
    expect(responses.length).toBeGreaterThan(0);
    expect(newOrders.messages.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      const leaks = texts.filter(({ text }) => text.includes(secret)).map(({ source, text }) => `${source}: ${text.slice(0, 200)}`);
      expect(leaks).toEqual([]);
    }

    const stored = (await servers.readLog()).map((event) => ({ data: JSON.stringify(event.data), metadata: JSON.stringify(event.metadata) }));
    for (const password of [...passwords, ...rejectedPasswords]) {
      expect(stored.filter((row) => row.data.includes(password) || row.metadata.includes(password))).toEqual([]);
    }
  });
});

/** Serialises `base` with `field` set to `rawValue` verbatim, so values JSON.stringify cannot produce reach the server. */
function jsonWithRawField(base: Record<string, unknown>, field: string, rawValue: string): string {
  const members = Object.entries({ ...base, [field]: null }).map(([name, value]) =>
    `${JSON.stringify(name)}:${name === field ? rawValue : JSON.stringify(value)}`,
  );
  return `{${members.join(',')}}`;
}

/** Checks a 400 `validation_failed` whose details name exactly `fields`. */
function expectValidationError(response: TestResponse, fields: string[], request = ''): void {
  const body = response.body as ErrorBody | undefined;
  expect({ request, status: response.status, code: body?.error.code }).toEqual({ request, status: 400, code: 'validation_failed' });
  expect(body?.status).toBe('error');
  expect(body?.error.message).toEqual(expect.stringMatching(/\S/));
  expect([...new Set(body?.error.details?.map((detail) => detail.field))]).toEqual(fields);
}
