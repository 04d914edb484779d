import { MongoClient } from 'mongodb';
import { NEW_ORDERS_QUEUE } from '../../src/infrastructure/messaging/RabbitMqPublisher';
import { runCli } from '../../src/interfaces/cli/main';
import { testBackends, type BackendInstance } from '../support/backends';
import { collectMessages, createTestVhost, describeWithRabbitMq, type MessageCollector, type TestVhost } from '../support/rabbitMq';
import { makeDataDir, removeDataDir, startTestApp, waitUntil, type TestApp } from '../support/testApp';

type CliRun = { status: number; stdout: string; stderr: string };

const mongoBackends = testBackends().filter((backend) => backend.readModels === 'mongodb');

for (const backend of mongoBackends) describeWithRabbitMq(`read model rebuild and verify on ${backend.name}`, () => {
  let vhost: TestVhost;
  let servers: BackendInstance;
  let app: TestApp;
  let newOrders: MessageCollector;
  let cliEnv: Record<string, string>;

  const cli = async (...argv: string[]): Promise<CliRun> => {
    let stdout = '';
    let stderr = '';
    const status = await runCli(argv, { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text) }, cliEnv);
    return { status, stdout, stderr };
  };

  beforeAll(async () => {
    vhost = await createTestVhost();
    newOrders = await collectMessages(vhost.url, NEW_ORDERS_QUEUE);
    const dataDir = makeDataDir();
    servers = await backend.setUp(dataDir);
    app = await startTestApp({ rabbitMqUrl: vhost.url, dataDir, env: servers.env });
    cliEnv = { DATA_DIR: dataDir, LOG_LEVEL: 'silent', LEASE_TTL_MS: '1000', ...servers.env };

    const customer = await app.request('POST', '/users/', { email: 'rebuild@example.com', username: 'rebuilder', password: 'password1' });
    for (let index = 0; index < 5; index++) {
      const order = await app.request('POST', '/orders/', { customer_id: customer.body.id, total_amount: index + 0.25 });
      await app.request('PUT', `/orders/${order.body.id}/status`, { status: 'processed' });
    }
    await app.request('POST', '/products/', { name: 'Lamp', description: '', price: 3.5, quantity: 1, shop_id: 1, category_id: 1 });
    await newOrders.waitForCount(5, 10_000);
  });

  afterAll(async () => {
    await app?.stop();
    await servers?.tearDown();
    await newOrders?.close();
    await vhost?.remove();
    if (app !== undefined) removeDataDir(app.dataDir);
  });

  it('verify finds no difference', async () => {
    const run = await cli('verify-read-models');

    expect(run.stdout).toMatch(/compared 7 documents after replaying \d+ events: no differences/);
    expect(run.status).toBe(0);
  });

  it('verify reports tampered documents', async () => {
    const client = new MongoClient(servers.env.MONGODB_URI!);
    try {
      const db = client.db();
      await db.collection('orders').updateOne({ _id: 1 as never }, { $set: { total_amount: 999 } });
      await db.collection('orders').deleteOne({ _id: 2 as never });
      await db.collection('products').insertOne({ _id: 77 as never, revision: 0, deleted: false, name: 'ghost' });

      const run = await cli('verify-read-models');

      expect(run.stdout).toContain('DIVERGENT orders/1');
      expect(run.stdout).toContain('LAGGING orders/2');
      expect(run.stdout).toContain('ORPHAN products/77');
      expect(run.stdout).toContain('3 differences');
      expect(run.status).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('rebuild repairs and publishes nothing', async () => {
    const messagesBefore = newOrders.messages.length;
    await app.stop();

    const rebuilt = await cli('rebuild-read-models');
    expect(rebuilt.stdout).toMatch(/rebuilt read models from \d+ events/);
    expect(rebuilt.status).toBe(0);

    const verified = await cli('verify-read-models');
    expect(verified.stdout).toContain('no differences');
    expect(verified.status).toBe(0);

    app = await startTestApp({ rabbitMqUrl: vhost.url, dataDir: app.dataDir, env: servers.env });
    expect((await app.request('GET', '/orders/1')).body.total_amount).toBe(0.25);
    expect((await app.request('GET', '/products/77')).status).toBe(404);
    await waitUntil(async () => (await app.request('GET', '/health/ready')).body.relay.state === 'running', 10_000, 'the relay runs again');
    expect(newOrders.messages).toHaveLength(messagesBefore);
  });

  it('without MONGODB_URI is a usage error', async () => {
    const { MONGODB_URI: _unused, ...withoutMongo } = cliEnv;
    let stderr = '';
    const status = await runCli(['verify-read-models'], { stdout: () => undefined, stderr: (text) => void (stderr += text) }, withoutMongo);

    expect(stderr).toContain('MONGODB_URI is not set');
    expect(status).toBe(2);
  });
});
