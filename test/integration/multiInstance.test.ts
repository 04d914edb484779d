import { NEW_ORDERS_QUEUE, ORDER_UPDATES_QUEUE } from '../../src/infrastructure/messaging/RabbitMqPublisher';
import { buildApp, startChildApp, type ChildApp } from '../support/childApp';
import { EsdbTestServer, type RunningEsdbTestServer } from '../support/esdbTestServer/server';
import { dropDatabase, startMongoTestServer, uniqueDatabaseName } from '../support/ferretDb';
import { collectMessages, createTestVhost, describeWithRabbitMq, type CollectedMessage, type TestVhost } from '../support/rabbitMq';
import { waitUntil } from '../support/testApp';

const LEASE_TTL_MS = 1500;
const mongo = startMongoTestServer();
if (mongo.skipReason !== undefined) console.warn(`Skipping the multi-instance tests: ${mongo.skipReason}`);
const describeWithMongo = mongo.server === undefined ? describe.skip : describe;

/** Every message id maps to one body; a redelivered message must repeat its body exactly. */
function expectDuplicatesOnlyWithEqualIds(messages: readonly CollectedMessage[]): void {
  const bodies = new Map<string, string>();
  for (const message of messages) {
    const body = JSON.stringify(message.body);
    const earlier = bodies.get(message.messageId ?? '');
    if (earlier !== undefined) expect(body).toBe(earlier);
    bodies.set(message.messageId ?? '', body);
  }
}

describeWithMongo('several instances', () => {
  describeWithRabbitMq('on one event store and one MongoDB', () => {
    const mongoUri = mongo.server?.uri ?? '';
    let vhost: TestVhost;
    let eventStore: RunningEsdbTestServer;
    let databaseName: string;
    const children: ChildApp[] = [];

    const start = async (env: Record<string, string> = {}): Promise<ChildApp> => {
      const uri = new URL(mongoUri);
      uri.pathname = `/${databaseName}`;
      const child = await startChildApp({
        EVENTSTORE_CONNECTION_STRING: eventStore.connectionString,
        MONGODB_URI: uri.toString(),
        RABBITMQ_URL: vhost.url,
        LEASE_TTL_MS: String(LEASE_TTL_MS),
        RETRY_INITIAL_DELAY_MS: '50',
        RETRY_MAX_DELAY_MS: '500',
        READ_YOUR_WRITES_TIMEOUT_MS: '3000',
        SHUTDOWN_GRACE_MS: '5000',
        ...env,
      });
      children.push(child);
      return child;
    };

    beforeAll(() => buildApp());
    afterAll(() => mongo.server?.stop());

    beforeEach(async () => {
      vhost = await createTestVhost();
      eventStore = await new EsdbTestServer({ batchAppend: true }).start();
      databaseName = uniqueDatabaseName('instances');
    });

    afterEach(async () => {
      for (const child of children.splice(0)) await child.kill('SIGTERM');
      await eventStore.stop();
      await vhost.remove();
      await dropDatabase(mongoUri, databaseName);
    });

    it('reads your writes across instances', async () => {
      const first = await start({ INSTANCE_ID: 'first' });
      const second = await start({ INSTANCE_ID: 'second' });
      const customer = await first.request('POST', '/users/', { email: 'across@example.com', username: 'across', password: 'password1' });
      expect(customer.status).toBe(201);

      const failures: string[] = [];
      for (let round = 0; round < 40; round++) {
        const [writer, reader] = round % 2 === 0 ? [first, second] : [second, first];
        const created = await writer.request('POST', '/orders/', { customer_id: customer.body.id, total_amount: round + 1 });
        const read = await reader.request('GET', `/orders/${created.body.id}`);
        if (created.status !== 201 || read.status !== 200) failures.push(`round ${round}: POST ${created.status}, GET ${read.status}`);
      }

      expect(failures).toEqual([]);
      const roles = await Promise.all([first, second].map(async (child) => (await child.request('GET', '/health/ready')).body.projector.role));
      expect(roles.sort()).toEqual(['active', 'standby']);
    });

    it('hands the leases over after SIGKILL', async () => {
      const newOrders = await collectMessages(vhost.url, NEW_ORDERS_QUEUE);
      try {
        const holder = await start({ INSTANCE_ID: 'holder' });
        await waitUntil(async () => (await holder.request('GET', '/health/ready')).body.relay.role === 'active', 10_000, 'the first instance holds the relay lease');
        const survivor = await start({ INSTANCE_ID: 'survivor' });
        const customer = await survivor.request('POST', '/users/', { email: 'handover@example.com', username: 'handover', password: 'password1' });

        const accepted: number[] = [];
        for (let index = 0; index < 60; index++) {
          if (index === 30) expect(await holder.kill('SIGKILL')).toBe('SIGKILL');
          const created = await survivor.request('POST', '/orders/', { customer_id: customer.body.id, total_amount: index + 1 });
          expect(created.status).toBe(201);
          accepted.push(created.body.id);
        }

        await waitUntil(async () => (await survivor.request('GET', '/health/ready')).body.relay.role === 'active', LEASE_TTL_MS * 4, 'the survivor took the relay lease over');
        const messages = await newOrders.waitForCount(accepted.length, 30_000);
        await waitUntil(() => new Set(newOrders.messages.map((message) => (message.body as { id: number }).id)).size >= accepted.length, 30_000, 'every order was published');
        const publishedIds = new Set(newOrders.messages.map((message) => (message.body as { id: number }).id));
        for (const orderId of accepted) expect(publishedIds.has(orderId)).toBe(true);
        expectDuplicatesOnlyWithEqualIds(messages);
        expect((await survivor.request('GET', `/orders/user/${customer.body.id}`)).body).toHaveLength(accepted.length);
      } finally {
        await newOrders.close();
      }
    });

    it('projector killed mid-burst resumes exactly', async () => {
      const orderUpdates = await collectMessages(vhost.url, ORDER_UPDATES_QUEUE);
      try {
        const api = await start({ INSTANCE_ID: 'api', ROLES: 'api,relay' });
        let projector = await start({ INSTANCE_ID: 'projector-1', ROLES: 'projector' });
        const customer = await api.request('POST', '/users/', { email: 'burst@example.com', username: 'burst', password: 'password1' });
        expect(customer.status).toBe(201);

        const burst = Array.from({ length: 100 }, async (_unused, index) => {
          const created = await api.request('POST', '/orders/', { customer_id: customer.body.id, total_amount: index + 1 });
          const changed = await api.request('PUT', `/orders/${created.body.id}/status`, { status: 'processed' });
          return { created: created.status, changed: changed.status, orderId: created.body.id as number };
        });
        await waitUntil(() => orderUpdates.messages.length >= 20, 30_000, 'the burst is under way');
        expect(await projector.kill('SIGKILL')).toBe('SIGKILL');
        const results = await Promise.all(burst);
        projector = await start({ INSTANCE_ID: 'projector-2', ROLES: 'projector' });

        expect(results.filter((result) => result.created !== 201 || result.changed !== 200)).toEqual([]);
        await waitUntil(
          async () => {
            const listed = await api.request('GET', `/orders/user/${customer.body.id}`);
            return listed.status === 200 && listed.body.length === 100 && listed.body.every((order: { status: string }) => order.status === 'processed');
          },
          30_000,
          'the restarted projector applied the whole burst',
        );
        for (const { orderId } of results) {
          const order = await api.request('GET', `/orders/${orderId}`);
          expect(order.body.status).toBe('processed');
          expect(order.headers.get('etag')).toBe('"1"');
        }
      } finally {
        await orderUpdates.close();
      }
    });
  });
});
