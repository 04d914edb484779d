import { dropDatabase, startMongoTestServer, uniqueDatabaseName } from '../support/ferretDb';
import { createTestVhost, describeWithRabbitMq, type TestVhost } from '../support/rabbitMq';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy';
import { makeDataDir, removeDataDir, startTestApp, waitUntil, type TestApp } from '../support/testApp';

const mongo = startMongoTestServer();
if (mongo.skipReason !== undefined) console.warn(`Skipping the read model outage test: ${mongo.skipReason}`);
const describeWithMongo = mongo.server === undefined ? describe.skip : describe;

describeWithMongo('MongoDB outage', () => {
  describeWithRabbitMq('with the app running', () => {
    let vhost: TestVhost;
    let proxy: TcpProxy;
    let app: TestApp;
    const databaseName = uniqueDatabaseName('outage');
    const serverUri = new URL(mongo.server?.uri ?? 'mongodb://unused/');

    beforeAll(async () => {
      vhost = await createTestVhost();
      proxy = await startTcpProxy({ targetHost: serverUri.hostname, targetPort: Number(serverUri.port) });
      const proxied = new URL(serverUri);
      proxied.port = String(proxy.port);
      proxied.pathname = `/${databaseName}`;
      proxied.searchParams.set('serverSelectionTimeoutMS', '1000');
      app = await startTestApp({
        rabbitMqUrl: vhost.url,
        dataDir: makeDataDir(),
        env: { MONGODB_URI: proxied.toString(), READ_YOUR_WRITES_TIMEOUT_MS: '1000' },
      });
    });

    afterAll(async () => {
      await app?.stop();
      await proxy?.close();
      await vhost?.remove();
      await dropDatabase(serverUri.toString(), databaseName);
      await mongo.server?.stop();
      if (app !== undefined) removeDataDir(app.dataDir);
    });

    it('answers 503 and catches up after', async () => {
      const before = await app.request('POST', '/users/', { email: 'before@example.com', username: 'beforeout', password: 'password1' });
      expect(before.status).toBe(201);

      proxy.cut();
      const read = await app.request('GET', `/users/${before.body.id}`);
      expect(read.status).toBe(503);
      expect(read.body.error.code).toBe('service_unavailable');
      expect(read.headers.get('retry-after')).toMatch(/^\d+$/);
      const during = await app.request('POST', '/users/', { email: 'during@example.com', username: 'duringout', password: 'password1' });
      expect(during.status).toBe(201);
      const ready = await app.request('GET', '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.dependencies.read_models.status).toBe('down');

      proxy.restore();
      await waitUntil(async () => (await app.request('GET', `/users/${during.body.id}`)).status === 200, 30_000, 'the projector caught up');
      expect((await app.request('GET', `/users/${before.body.id}`)).status).toBe(200);
      expect((await app.request('GET', '/health/ready')).status).toBe(200);
    });
  });
});
