import { createTestVhost, describeWithRabbitMq, type TestVhost } from '../../support/rabbitMq';
import { testBackends, type BackendInstance } from '../../support/backends';
import { makeDataDir, removeDataDir, startTestApp, type TestApp } from '../../support/testApp';

for (const backend of testBackends()) describeWithRabbitMq(`consistency on ${backend.name}`, () => {
  let vhost: TestVhost;
  let servers: BackendInstance;
  let app: TestApp;

  beforeAll(async () => {
    vhost = await createTestVhost();
    const dataDir = makeDataDir();
    servers = await backend.setUp(dataDir);
    app = await startTestApp({ rabbitMqUrl: vhost.url, dataDir, env: servers.env });
  });

  afterAll(async () => {
    await app?.stop();
    await servers?.tearDown();
    await vhost?.remove();
    if (app !== undefined) removeDataDir(app.dataDir);
  });

  it('concurrent registrations of one email', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_unused, index) =>
        app.request('POST', '/users/', { email: 'race@example.com', username: `racer${index}`, password: 'password1' }),
      ),
    );

    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(19);
    for (const rejected of responses.filter((response) => response.status === 409)) {
      expect(rejected.body.error.code).toBe('email_taken');
    }
  });

  it('concurrent registrations of one username', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_unused, index) =>
        app.request('POST', '/users/', { email: `same-name-${index}@example.com`, username: 'samename', password: 'password1' }),
      ),
    );

    expect(responses.filter((response) => response.status === 201)).toHaveLength(1);
    expect(responses.filter((response) => response.status === 409)).toHaveLength(19);
  });

  it('email in other letter case', async () => {
    const first = await app.request('POST', '/users/', { email: 'Case@Example.com', username: 'caseuser', password: 'password1' });
    expect(first.status).toBe(201);

    const second = await app.request('POST', '/users/', { email: 'cASE@example.COM', username: 'caseuser2', password: 'password1' });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('email_taken');

    const sameUsername = await app.request('POST', '/users/', { email: 'other-case@example.com', username: 'CASEUSER', password: 'password1' });
    expect(sameUsername.status).toBe(409);
    expect(sameUsername.body.error.code).toBe('username_taken');
  });

  it('delete releases email and username', async () => {
    const created = await app.request('POST', '/users/', { email: 'reuse@example.com', username: 'reuser', password: 'password1' });
    expect(created.status).toBe(201);
    expect((await app.request('DELETE', `/users/${created.body.id}`)).status).toBe(200);

    const again = await app.request('POST', '/users/', { email: 'REUSE@example.com', username: 'reuser', password: 'password2' });
    expect(again.status).toBe(201);
    expect(again.body.id).toBeGreaterThan(created.body.id);
  });

  it('changed email frees the old one', async () => {
    const created = await app.request('POST', '/users/', { email: 'before@example.com', username: 'mover', password: 'password1' });
    const updated = await app.request('PUT', `/users/${created.body.id}`, { email: 'after@example.com' });
    expect(updated.status).toBe(200);

    const takesOld = await app.request('POST', '/users/', { email: 'before@example.com', username: 'mover2', password: 'password1' });
    expect(takesOld.status).toBe(201);
    const takesNew = await app.request('POST', '/users/', { email: 'after@example.com', username: 'mover3', password: 'password1' });
    expect(takesNew.status).toBe(409);
  });

  it('read your writes for orders', async () => {
    const customer = await app.request('POST', '/users/', { email: 'ryw@example.com', username: 'ryw', password: 'password1' });
    expect(customer.status).toBe(201);

    const failures: string[] = [];
    for (let round = 0; round < 100; round++) {
      const created = await app.request('POST', '/orders/', { customer_id: customer.body.id, total_amount: round + 0.5 });
      const read = await app.request('GET', `/orders/${created.body.id}`);
      if (created.status !== 201 || read.status !== 200 || read.body.total_amount !== round + 0.5) {
        failures.push(`round ${round}: POST ${created.status}, GET ${read.status}`);
      }
    }

    expect(failures).toEqual([]);
    const listed = await app.request('GET', `/orders/user/${customer.body.id}`);
    expect(listed.body).toHaveLength(100);
    expect(listed.body.map((order: { id: number }) => order.id)).toEqual(
      [...listed.body.map((order: { id: number }) => order.id)].sort((left: number, right: number) => left - right),
    );
  });

  it('200 concurrent orders of one customer', async () => {
    const customer = await app.request('POST', '/users/', { email: 'many@example.com', username: 'many', password: 'password1' });

    const responses = await Promise.all(
      Array.from({ length: 200 }, (_unused, index) => app.request('POST', '/orders/', { customer_id: customer.body.id, total_amount: index + 1 })),
    );

    expect(responses.filter((response) => response.status !== 201)).toEqual([]);
    const listed = await app.request('GET', `/orders/user/${customer.body.id}`);
    expect(listed.body).toHaveLength(200);
    expect(new Set(listed.body.map((order: { id: number }) => order.id)).size).toBe(200);
    expect(listed.body.map((order: { total_amount: number }) => order.total_amount).sort((left: number, right: number) => left - right)).toEqual(
      Array.from({ length: 200 }, (_unused, index) => index + 1),
    );
  });

  it('orders of deleted customer', async () => {
    const customer = await app.request('POST', '/users/', { email: 'gone@example.com', username: 'gone', password: 'password1' });
    await app.request('POST', '/orders/', { customer_id: customer.body.id, total_amount: 10 });
    await app.request('DELETE', `/users/${customer.body.id}`);

    const listed = await app.request('GET', `/orders/user/${customer.body.id}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toHaveLength(1);

    const neverExisted = await app.request('GET', '/orders/user/999999');
    expect(neverExisted.status).toBe(404);
  });
});
