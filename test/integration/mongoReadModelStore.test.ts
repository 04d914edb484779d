import { createServer, connect as connectTcp } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';

import type { Logger } from '../../src/application/ports/Logger';
import { ReadModelUnavailableError } from '../../src/application/ports/ReadModelStore';
import type { ViewRecord } from '../../src/application/ports/ReadModelStore';
import { MongoLease } from '../../src/infrastructure/readmodel/MongoLease';
import {
  CHECKPOINTS_COLLECTION,
  MongoReadModelStore,
  ORDERS_BY_CUSTOMER_INDEX,
} from '../../src/infrastructure/readmodel/MongoReadModelStore';
import { describeReadModelStoreContract } from '../contract/readModelStoreContract';
import { dropDatabase, startMongoTestServer, uniqueDatabaseName } from '../support/ferretDb';

const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

// A wedged server should fail a test quickly rather than after the default 60 s.
jest.setTimeout(20_000);

const mongo = startMongoTestServer();
if (mongo.skipReason !== undefined) {
  console.warn(`Skipping MongoReadModelStore tests: ${mongo.skipReason}`);
}
const describeWithMongo = mongo.server === undefined ? describe.skip : describe;

describeWithMongo('MongoReadModelStore', () => {
  const server = mongo.server;
  const uri = server?.uri ?? 'mongodb://unused';
  const databaseName = uniqueDatabaseName('readmodel');

  afterAll(async () => {
    try {
      await dropDatabase(uri, databaseName);
    } finally {
      await server?.stop();
    }
  });

  describeReadModelStoreContract('MongoReadModelStore', async () => {
    const store = await connectStore(uri, databaseName);
    await store.clear();
    return {
      store,
      cleanup: async () => {
        await store.clear();
        await store.close();
      },
    };
  });

  describe('documents', () => {
    let store: MongoReadModelStore;
    let client: MongoClient;
    let db: Db;

    beforeEach(async () => {
      store = await connectStore(uri, databaseName);
      await store.clear();
      client = await MongoClient.connect(uri);
      db = client.db(databaseName);
    });

    afterEach(async () => {
      await store.clear();
      await store.close();
      await client.close();
    });

    it('stores view fields under _id', async () => {
      await store.applyChanges([{ collection: 'orders', record: orderRecord(7, 3, 2) }], 5n);

      const document = await db.collection('orders').findOne({ _id: 7 as never });

      expect(document).toEqual({
        _id: 7,
        customer_id: 3,
        total_amount: 12.34,
        status: 'pending',
        created_at: '2024-01-04T00:00:00.000Z',
        updated_at: '2024-01-04T00:00:00.000Z',
        revision: 2,
        deleted: false,
      });
    });

    it('drops fields outside the view', async () => {
      const user = {
        id: 1,
        revision: 0,
        deleted: false,
        view: {
          id: 1,
          email: 'a@example.com',
          username: 'a',
          created_at: '2024-01-01T00:00:00.000Z',
          updated_at: '2024-01-01T00:00:00.000Z',
          password_hash: '$2b$12$not-a-real-hash',
        },
      };

      await store.applyChanges([{ collection: 'users', record: user }], 1n);

      const document = await db.collection('users').findOne({ _id: 1 as never });
      expect(document).not.toBeNull();
      expect(document).not.toHaveProperty('password_hash');
      expect(await store.get('users', 1)).not.toHaveProperty('view.password_hash');
    });

    it('stores the checkpoint as a decimal string', async () => {
      await store.applyChanges([], 18_446_744_073_709_551_615n);

      const document = await db.collection(CHECKPOINTS_COLLECTION).findOne({ _id: 'projector' as never });

      expect(typeof document?.position).toBe('string');
      expect(document?.position).toBe('18446744073709551615');
    });

    it('rejects a checkpoint outside 64 bits', async () => {
      await expect(store.applyChanges([], -1n)).rejects.toThrow(RangeError);
      await expect(store.applyChanges([], 2n ** 64n)).rejects.toThrow(RangeError);
    });

    it('creates the orders customer_id index', async () => {
      const indexes = await db.collection('orders').listIndexes().toArray();

      const index = indexes.find((candidate) => candidate.name === ORDERS_BY_CUSTOMER_INDEX);
      expect(index?.key).toEqual({ customer_id: 1, _id: 1 });
    });

    it('updates a document inserted by another writer', async () => {
      await db.collection('orders').insertOne({ ...orderDocument(9, 1), revision: 0, deleted: false });

      await store.applyChanges([{ collection: 'orders', record: { ...orderRecord(9, 1, 1), view: { ...orderRecord(9, 1, 1).view, status: 'processed' } } }], 2n);

      const stored = await store.get('orders', 9);
      expect(stored?.revision).toBe(1);
      expect(stored?.view.status).toBe('processed');
    });

    it('insert race keeps the newer revision', async () => {
      const other = await connectStore(uri, databaseName);
      const ids = Array.from({ length: 50 }, (_, index) => index + 1);
      try {
        // Both stores upsert the same new documents at once, so one insert of each pair fails
        // with a duplicate key. When the newer revision loses the insert, only the retry as a
        // guarded update brings the document to revision 2.
        for (let round = 0; round < 5; round += 1) {
          await store.clear();
          await Promise.all([
            store.applyChanges(ids.map((id) => ({ collection: 'orders', record: orderRecord(id, 1, 1) })), 1n),
            other.applyChanges(ids.map((id) => ({ collection: 'orders', record: orderRecord(id, 1, 2) })), 2n),
          ]);

          const documents = await db
            .collection('orders')
            .find({}, { projection: { revision: 1 } })
            .toArray();
          expect(documents).toHaveLength(ids.length);
          expect(documents.filter((document) => document.revision !== 2)).toEqual([]);
        }
      } finally {
        await other.close();
      }
    });
  });

  describe('unreachable server', () => {
    it('connect to a closed port fails fast', async () => {
      const port = await closedPort();
      const startedAt = Date.now();

      const connecting = MongoReadModelStore.connect(`mongodb://127.0.0.1:${port}/`, {
        logger: silentLogger,
        databaseName,
        serverSelectionTimeoutMS: 500,
      });

      await expect(connecting).rejects.toBeInstanceOf(ReadModelUnavailableError);
      expect(Date.now() - startedAt).toBeLessThan(5000);
    });

    it('operations fail after the server goes away', async () => {
      const proxy = await startTcpProxy(new URL(uri));
      const store = await MongoReadModelStore.connect(`mongodb://127.0.0.1:${proxy.port}/`, {
        logger: silentLogger,
        databaseName,
        serverSelectionTimeoutMS: 500,
      });
      try {
        await store.applyChanges([{ collection: 'orders', record: orderRecord(1, 1, 0) }], 1n);
        await expect(store.get('orders', 1)).resolves.toBeDefined();

        await proxy.close();
        const startedAt = Date.now();

        await expect(store.get('orders', 1)).rejects.toBeInstanceOf(ReadModelUnavailableError);
        await expect(store.listOrdersByCustomer(1)).rejects.toBeInstanceOf(ReadModelUnavailableError);
        await expect(
          store.applyChanges([{ collection: 'orders', record: orderRecord(2, 1, 0) }], 2n),
        ).rejects.toBeInstanceOf(ReadModelUnavailableError);
        await expect(store.getCheckpoint()).rejects.toBeInstanceOf(ReadModelUnavailableError);
        expect(Date.now() - startedAt).toBeLessThan(10_000);
      } finally {
        await store.close();
        await proxy.close();
        await dropOrders(uri, databaseName);
      }
    });
  });

  describe('MongoLease', () => {
    const ttlMs = 10_000;
    let client: MongoClient;
    let clock: { now: Date };
    let first: MongoLease;
    let second: MongoLease;
    let leaseName: string;

    beforeEach(async () => {
      client = await MongoClient.connect(uri);
      clock = { now: new Date('2024-06-01T12:00:00.000Z') };
      const options = { logger: silentLogger, now: () => clock.now };
      first = new MongoLease(client.db(databaseName), options);
      second = new MongoLease(client.db(databaseName), options);
      leaseName = `projector-${Math.random().toString(16).slice(2)}`;
    });

    afterEach(async () => {
      await client.close();
    });

    it('one of two owners wins', async () => {
      await expect(first.tryAcquire(leaseName, 'instance-a', ttlMs)).resolves.toBe(true);

      await expect(second.tryAcquire(leaseName, 'instance-b', ttlMs)).resolves.toBe(false);
      await expect(second.renew(leaseName, 'instance-b', ttlMs)).resolves.toBe(false);
      await expect(first.renew(leaseName, 'instance-a', ttlMs)).resolves.toBe(true);
    });

    it('holder re-acquires and extends', async () => {
      await first.tryAcquire(leaseName, 'instance-a', ttlMs);
      advance(clock, ttlMs - 1);

      await expect(first.tryAcquire(leaseName, 'instance-a', ttlMs)).resolves.toBe(true);
      advance(clock, ttlMs - 1);

      await expect(second.tryAcquire(leaseName, 'instance-b', ttlMs)).resolves.toBe(false);
    });

    it('expiry hands the lease over', async () => {
      await first.tryAcquire(leaseName, 'instance-a', ttlMs);
      advance(clock, ttlMs - 1);
      await expect(second.tryAcquire(leaseName, 'instance-b', ttlMs)).resolves.toBe(false);

      advance(clock, 2);

      await expect(second.tryAcquire(leaseName, 'instance-b', ttlMs)).resolves.toBe(true);
      await expect(first.renew(leaseName, 'instance-a', ttlMs)).resolves.toBe(false);
      await expect(first.tryAcquire(leaseName, 'instance-a', ttlMs)).resolves.toBe(false);
    });

    it('renew keeps the lease past its first expiry', async () => {
      await first.tryAcquire(leaseName, 'instance-a', ttlMs);
      advance(clock, ttlMs - 1);
      await expect(first.renew(leaseName, 'instance-a', ttlMs)).resolves.toBe(true);

      advance(clock, ttlMs - 1);

      await expect(second.tryAcquire(leaseName, 'instance-b', ttlMs)).resolves.toBe(false);
    });

    it('release frees the lease at once', async () => {
      await first.tryAcquire(leaseName, 'instance-a', ttlMs);

      await expect(second.release(leaseName, 'instance-b')).resolves.toBe(false);
      await expect(second.tryAcquire(leaseName, 'instance-b', ttlMs)).resolves.toBe(false);
      await expect(first.release(leaseName, 'instance-a')).resolves.toBe(true);

      await expect(second.tryAcquire(leaseName, 'instance-b', ttlMs)).resolves.toBe(true);
      await expect(first.release(leaseName, 'instance-a')).resolves.toBe(false);
    });

    it('concurrent acquirers get one winner', async () => {
      const owners = Array.from({ length: 5 }, (_, index) => `instance-${index}`);

      const results = await Promise.all(
        owners.map((owner, index) => (index % 2 === 0 ? first : second).tryAcquire(leaseName, owner, ttlMs)),
      );

      expect(results.filter((acquired) => acquired)).toHaveLength(1);
    });

    it('rejects a non-positive ttl', async () => {
      await expect(first.tryAcquire(leaseName, 'instance-a', 0)).rejects.toThrow(RangeError);
    });

    it('connect to a closed port fails fast', async () => {
      const port = await closedPort();

      const connecting = MongoLease.connect(`mongodb://127.0.0.1:${port}/`, {
        logger: silentLogger,
        serverSelectionTimeoutMS: 500,
      });

      await expect(connecting).rejects.toBeInstanceOf(ReadModelUnavailableError);
    });
  });
});

function connectStore(uri: string, databaseName: string): Promise<MongoReadModelStore> {
  return MongoReadModelStore.connect(uri, { logger: silentLogger, databaseName, serverSelectionTimeoutMS: 5000 });
}

function orderDocument(id: number, customerId: number): Record<string, unknown> {
  const { id: _id, ...fields } = orderRecord(id, customerId, 0).view;
  return { _id, ...fields };
}

function orderRecord(id: number, customerId: number, revision: number): ViewRecord<'orders'> {
  return {
    id,
    revision,
    deleted: false,
    view: {
      id,
      customer_id: customerId,
      total_amount: 12.34,
      status: 'pending',
      created_at: '2024-01-04T00:00:00.000Z',
      updated_at: '2024-01-04T00:00:00.000Z',
    },
  };
}

function advance(clock: { now: Date }, ms: number): void {
  clock.now = new Date(clock.now.getTime() + ms);
}

async function dropOrders(uri: string, databaseName: string): Promise<void> {
  const client = await MongoClient.connect(uri);
  try {
    await client.db(databaseName).collection('orders').deleteMany({});
    await client.db(databaseName).collection(CHECKPOINTS_COLLECTION).deleteMany({});
  } finally {
    await client.close();
  }
}

/** Returns a loopback port that nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return port;
}

/** Forwards loopback TCP to the test server; `close` cuts every connection, as a crash would. */
async function startTcpProxy(target: URL): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connectTcp(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) {
          socket.destroy();
        }
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
