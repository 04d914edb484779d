import path from 'node:path';
import type { EventStore, RecordedEvent } from '../../src/application/ports/EventStore';
import { EsdbEventStore } from '../../src/infrastructure/eventstore/EsdbEventStore';
import { SqliteEventStore } from '../../src/infrastructure/eventstore/SqliteEventStore';
import { EsdbTestServer, type RunningEsdbTestServer } from './esdbTestServer/server';
import { dropDatabase, startMongoTestServer, uniqueDatabaseName, type MongoTestServerResult } from './ferretDb';
import { silentLogger } from './silentLogger';

/** The servers one suite runs the app against, started once per suite. */
export type BackendInstance = {
  /** Environment variables that point the app at these servers. */
  readonly env: Record<string, string>;
  /** Reads the whole log as the app's event store stores it, through a second adapter instance. */
  readLog(): Promise<RecordedEvent[]>;
  /** Stops the EventStoreDB test server, which fails open calls and keeps its data. Present only on EventStoreDB backends. */
  readonly stopEventStore?: () => Promise<void>;
  /** Starts the stopped EventStoreDB test server again on the same port, with the same data. */
  readonly restartEventStore?: () => Promise<void>;
  tearDown(): Promise<void>;
};

export type TestBackend = {
  readonly name: string;
  readonly eventStore: 'embedded' | 'eventstoredb';
  readonly readModels: 'in-memory' | 'mongodb';
  /** `dataDir` is the app's `DATA_DIR`, where the embedded store keeps its file. */
  setUp(dataDir: string): Promise<BackendInstance>;
};

let mongo: MongoTestServerResult | undefined;

/** Starts one MongoDB-wire server per test file, the first time a suite requests one. */
function mongoServer(): MongoTestServerResult {
  mongo ??= startMongoTestServer();
  return mongo;
}

async function setUpBackend(backend: TestBackend, dataDir: string): Promise<BackendInstance> {
  const env: Record<string, string> = {};
  const tearDowns: Array<() => Promise<void>> = [];

  let esdb: RunningEsdbTestServer | undefined;
  if (backend.eventStore === 'eventstoredb') {
    esdb = await new EsdbTestServer({ batchAppend: true }).start();
    env.EVENTSTORE_CONNECTION_STRING = esdb.connectionString;
    tearDowns.push(() => esdb?.stop() ?? Promise.resolve());
  }

  if (backend.readModels === 'mongodb') {
    const { server, skipReason } = mongoServer();
    if (server === undefined) throw new Error(`MongoDB-wire server unavailable: ${skipReason}`);
    const databaseName = uniqueDatabaseName('http');
    const uri = new URL(server.uri);
    uri.pathname = `/${databaseName}`;
    env.MONGODB_URI = uri.toString();
    tearDowns.push(() => dropDatabase(server.uri, databaseName));
  }

  const openStore = (): EventStore =>
    esdb === undefined
      ? SqliteEventStore.open(path.join(dataDir, 'events.sqlite'), silentLogger)
      : new EsdbEventStore({ connectionString: esdb.connectionString, logger: silentLogger });

  const runningEsdb = esdb;
  const eventStoreControls =
    runningEsdb === undefined ? {} : { stopEventStore: () => runningEsdb.stop(), restartEventStore: () => runningEsdb.restart() };

  return {
    env,
    ...eventStoreControls,
    async readLog() {
      const store = openStore();
      try {
        const events: RecordedEvent[] = [];
        for (let after: bigint | undefined; ; ) {
          const page = await store.readAll({ after, maxCount: 1000 });
          events.push(...page);
          if (page.length < 1000) return events;
          after = page.at(-1)?.position;
        }
      } finally {
        await store.close();
      }
    },
    async tearDown() {
      for (const tearDown of tearDowns.reverse()) await tearDown();
    },
  };
}

const ALL_BACKENDS: readonly TestBackend[] = (
  [
    ['embedded', 'in-memory'],
    ['eventstoredb', 'in-memory'],
    ['embedded', 'mongodb'],
    ['eventstoredb', 'mongodb'],
  ] as const
).map(([eventStore, readModels]) => ({
  name: `${eventStore} + ${readModels}`,
  eventStore,
  readModels,
  setUp(dataDir: string) {
    return setUpBackend(this, dataDir);
  },
}));

/**
 * The backends the HTTP suites run against: the embedded defaults, the EventStoreDB adapter on
 * the gRPC test server, and MongoDB read models on FerretDB (or MONGODB_TEST_URI). Set
 * SHOPSTREAM_TEST_BACKENDS to a comma-separated list of names to run fewer, e.g.
 * `embedded + in-memory`.
 */
export function testBackends(): readonly TestBackend[] {
  const selected = process.env.SHOPSTREAM_TEST_BACKENDS;
  const names = selected === undefined || selected.trim() === '' ? undefined : selected.split(',').map((name) => name.trim());
  const backends = ALL_BACKENDS.filter((backend) => names === undefined || names.includes(backend.name));
  if (!backends.some((backend) => backend.readModels === 'mongodb')) return backends;

  // Without CI=true a missing MongoDB-wire server skips those backends; with it, startMongoTestServer throws.
  const { server, skipReason } = mongoServer();
  if (server === undefined) {
    console.warn(`Skipping the MongoDB backends: ${skipReason}`);
    return backends.filter((backend) => backend.readModels !== 'mongodb');
  }
  afterAll(() => server.stop());
  return backends;
}
