import { testBackends, type BackendInstance } from '../../support/backends';
import { createTestVhost, describeWithRabbitMq, type TestVhost } from '../../support/rabbitMq';
import { makeDataDir, removeDataDir, startTestApp, type TestApp, type TestResponse } from '../../support/testApp';

type ErrorBody = { status: string; error: { code: string; message: string; details?: Array<{ field: string; message: string }> } };

/** One body-carrying endpoint: a body it accepts, and a misspelling of one of its fields that replaces the real one. */
type Endpoint = {
  readonly method: string;
  readonly path: string;
  readonly validBody: Record<string, unknown>;
  readonly typo: { readonly field: string; readonly misspelled: string };
};

for (const backend of testBackends()) describeWithRabbitMq(`HTTP unknown fields on ${backend.name}`, () => {
  let vhost: TestVhost;
  let app: TestApp;
  let servers: BackendInstance;
  let endpoints: Endpoint[];

  beforeAll(async () => {
    vhost = await createTestVhost();
    const dataDir = makeDataDir();
    servers = await backend.setUp(dataDir);
    app = await startTestApp({ rabbitMqUrl: vhost.url, dataDir, env: servers.env });

    const userId = await createdId('POST', '/users/', { email: 'owner@example.com', username: 'owner', password: 'password-1' });
    const productId = await createdId('POST', '/products/', { name: 'Pen', description: 'Blue pen', price: 1.2, quantity: 9, shop_id: 1, category_id: 1 });
    const orderId = await createdId('POST', '/orders/', { customer_id: userId, total_amount: 1.2 });
    endpoints = [
      {
        method: 'POST',
        path: '/users/',
        validBody: { email: 'new@example.com', username: 'new_user', password: 'password-1' },
        typo: { field: 'email', misspelled: 'emial' },
      },
      { method: 'PUT', path: `/users/${userId}`, validBody: { username: 'owner_renamed' }, typo: { field: 'username', misspelled: 'user_name' } },
      {
        method: 'POST',
        path: '/products/',
        validBody: { name: 'Ink', description: 'Black ink', price: 3, quantity: 2, shop_id: 1, category_id: 1 },
        typo: { field: 'price', misspelled: 'prise' },
      },
      { method: 'PUT', path: `/products/${productId}`, validBody: { quantity: 5 }, typo: { field: 'quantity', misspelled: 'Quantity' } },
      {
        method: 'POST',
        path: '/orders/',
        validBody: { customer_id: userId, total_amount: 4 },
        typo: { field: 'customer_id', misspelled: 'customerId' },
      },
      { method: 'PUT', path: `/orders/${orderId}/status`, validBody: { status: 'processed' }, typo: { field: 'status', misspelled: 'stauts' } },
    ];
  });

  afterAll(async () => {
    await app?.stop();
    await servers?.tearDown();
    await vhost?.remove();
    if (app !== undefined) removeDataDir(app.dataDir);
  });

  async function createdId(method: string, urlPath: string, body: unknown): Promise<number> {
    const response = await app.request(method, urlPath, body);
    expect(response.status).toBe(201);
    return (response.body as { id: number }).id;
  }

  /** Counts events appended by commands. The relay's checkpoint stream is left out because the relay appends to it by itself after order events. */
  async function commandEventCount(): Promise<number> {
    const events = await servers.readLog();
    return events.filter((event) => !event.streamId.startsWith('checkpoints-')).length;
  }

  async function sendRaw(endpoint: Endpoint, rawBody: string): Promise<TestResponse> {
    return app.requestRaw(endpoint.method, endpoint.path, rawBody, { 'content-type': 'application/json' });
  }

  it('rejects an extra field', async () => {
    const before = await commandEventCount();

    for (const endpoint of endpoints) {
      const response = await app.request(endpoint.method, endpoint.path, { ...endpoint.validBody, extra_field: 1 });

      expectUnknownFields(response, ['extra_field'], endpoint);
    }
    expect(await commandEventCount()).toBe(before);
  });

  it('names every unknown field', async () => {
    const before = await commandEventCount();

    for (const endpoint of endpoints) {
      const response = await app.request(endpoint.method, endpoint.path, { ...endpoint.validBody, role: 'admin', is_admin: true });

      expectUnknownFields(response, ['role', 'is_admin'], endpoint);
    }
    expect(await commandEventCount()).toBe(before);
  });

  it('rejects __proto__ without pollution', async () => {
    const before = await commandEventCount();

    for (const endpoint of endpoints) {
      // In an object literal `__proto__:` sets the prototype instead of adding a key, so the body is written as text.
      const rawBody = `{"__proto__":{"polluted":1,"is_admin":true},${JSON.stringify(endpoint.validBody).slice(1)}`;
      const response = await sendRaw(endpoint, rawBody);

      expectUnknownFields(response, ['__proto__'], endpoint);
    }
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.prototype).not.toHaveProperty('is_admin');
    expect(await commandEventCount()).toBe(before);
  });

  it('rejects constructor and prototype', async () => {
    const before = await commandEventCount();

    for (const endpoint of endpoints) {
      for (const field of ['constructor', 'prototype', 'hasOwnProperty', 'toString']) {
        const rawBody = `{"${field}":{"prototype":{"polluted":1}},${JSON.stringify(endpoint.validBody).slice(1)}`;
        const response = await sendRaw(endpoint, rawBody);

        expectUnknownFields(response, [field], endpoint);
      }
    }
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(await commandEventCount()).toBe(before);
  });

  it('rejects a misspelled field', async () => {
    const before = await commandEventCount();

    for (const endpoint of endpoints) {
      const { field, misspelled } = endpoint.typo;
      const { [field]: value, ...rest } = endpoint.validBody;
      const response = await app.request(endpoint.method, endpoint.path, { ...rest, [misspelled]: value });

      expectUnknownFields(response, [misspelled], endpoint);
    }
    expect(await commandEventCount()).toBe(before);
  });

  it('rejects a body of only unknowns', async () => {
    const before = await commandEventCount();

    for (const endpoint of endpoints) {
      expectUnknownFields(await app.request(endpoint.method, endpoint.path, { emial: 'a@example.com' }), ['emial'], endpoint);
    }
    expect(await commandEventCount()).toBe(before);
  });
});

/** Checks a 400 `validation_failed` that names exactly `fields`, each in its detail and in the message. */
function expectUnknownFields(response: TestResponse, fields: string[], endpoint: Endpoint): void {
  const request = `${endpoint.method} ${endpoint.path}`;
  const body = response.body as ErrorBody | undefined;
  expect({ request, status: response.status, code: body?.error.code }).toEqual({ request, status: 400, code: 'validation_failed' });
  expect(body?.status).toBe('error');
  expect(body?.error.details?.map((detail) => detail.field)).toEqual(fields);
  for (const field of fields) {
    expect(body?.error.message).toContain(field);
    expect(body?.error.details?.find((detail) => detail.field === field)?.message).toContain(field);
  }
}
