import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MongoClient, type AnyBulkWriteOperation, type Db } from 'mongodb';
import type { CollectionName, ViewChange } from '../src/application/ports/ReadModelStore';
import { InMemoryReadModelStore } from '../src/infrastructure/readmodel/InMemoryReadModelStore';
import {
  FERRETDB_UPDATE_BATCH_SIZE,
  MongoReadModelStore,
  ORDERS_BY_CUSTOMER_INDEX,
  READ_MODEL_COLLECTIONS,
  type ViewDocument,
} from '../src/infrastructure/readmodel/MongoReadModelStore';
import type { BenchmarkStep, FigureSet } from './figures';
import { RUNS } from './httpBenchmarks';
import { fillLog, measureRebuild, REBUILD_EVENTS, silentLogger } from './storeBenchmarks';

const execFileAsync = promisify(execFile);

const PROJECT_DIR = path.join(__dirname, '..', '..');
const FERRETDB_SCRIPT = path.join(PROJECT_DIR, 'scripts', 'ferretdb.sh');
const FERRETDB_BINARY = path.join(PROJECT_DIR, '.tools', 'bin', 'ferretdb');
const FERRETDB_SCRIPT_TIMEOUT_MS = 120_000;
/**
 * Client options added to the URI: `socketTimeoutMS` fails an operation whose reply takes longer
 * than 60 s (a wedged server), and `maxPoolSize=4` stays below the server's PostgreSQL pool, as
 * the tests do (docs/mongodb.md). The mongodb driver 7.9 ignores `timeoutMS` and warns that it has no effect.
 */
const CLIENT_OPTIONS = 'socketTimeoutMS=60000&maxPoolSize=4';
/** Upper bound of one timed rebuild or bulk write run. */
const MAX_RUN_MS = 180_000;

export const FIGURE = {
  bulkWrite: "Raw bulkWrite into FerretDB of the rebuild's documents in the rebuild's batches, documents/s",
  rebuildDocuments: `Rebuild of MongoDB read models on FerretDB (Projector.catchUp) from ${REBUILD_EVENTS.toLocaleString('en-US')} events, documents/s`,
  rebuildEvents: `Rebuild of MongoDB read models on FerretDB (Projector.catchUp) from ${REBUILD_EVENTS.toLocaleString('en-US')} events, events/s`,
} as const;

/** The writes of one recorded `applyChanges` call to one collection, as raw driver operations. */
type CollectionWrite = {
  readonly collection: CollectionName;
  /** Documents this batch creates, sent as one unordered bulkWrite of insertOne. */
  readonly inserts: readonly AnyBulkWriteOperation<ViewDocument>[];
  /** Documents an earlier batch created, sent as unguarded updateOne by _id. */
  readonly updates: readonly AnyBulkWriteOperation<ViewDocument>[];
};

/** In-memory read models that keep every batch passed to `applyChanges`, so the baseline can write the same batches. */
class RecordingReadModelStore extends InMemoryReadModelStore {
  readonly batches: ViewChange[][] = [];

  override applyChanges(changes: readonly ViewChange[], checkpoint: bigint): Promise<void> {
    this.batches.push([...changes]);
    return super.applyChanges(changes, checkpoint);
  }
}

// Mutable, because the FerretDB backend is known only once the server runs. The report reads
// the notes after the step has run.
const notes: string[] = [
  `FerretDB 1.24, started for this step by scripts/ferretdb.sh on loopback with an ephemeral database. Client URI options: ${CLIENT_OPTIONS}. Every run writes into a fresh database that has the orders index the store creates.`,
  `Both compared figures count document writes: the documents that the projector passes to applyChanges while it rebuilds from the ${REBUILD_EVENTS.toLocaleString('en-US')}-event log (a resource whose events fall into two catch-up pages counts twice). The baseline writes the same documents in the same batches with plain driver calls, without revision guard or checkpoint. The events/s figure is the same rebuild counted in events.`,
];

export const mongoStep: BenchmarkStep = {
  key: 'mongo',
  title: 'rebuild into MongoDB read models on FerretDB',
  run: measureMongo,
  comparisons: [{ scenario: FIGURE.rebuildDocuments, baseline: FIGURE.bulkWrite, target: 0.7 }],
  notes,
  unmeasured: [
    {
      name: 'Rebuild into FerretDB of a log whose updates come many pages after the creation',
      reason:
        "the filled log puts each order's status change right after its creation, so the projector reads almost no stored document. When updates come later, each page sends a getMany, which FerretDB 1.24 answers by reading the whole collection (docs/mongodb.md)",
    },
  ],
};

/** Starts an ephemeral FerretDB, then measures raw bulk writes and the projector's rebuild into it. */
async function measureMongo(figures: FigureSet): Promise<void> {
  if (!existsSync(FERRETDB_BINARY)) {
    throw new Error(`FerretDB is not built at ${FERRETDB_BINARY}: run scripts/ferretdb.sh install first (needs Go 1.24+)`);
  }
  const folder = mkdtempSync(path.join(tmpdir(), 'shopstream-bench-mongo-'));
  const stateDir = path.join(folder, 'ferretdb');
  let client: MongoClient | undefined;
  try {
    const server = await startFerretDb(stateDir);
    notes.push(`FerretDB backend: ${server.backend}.`);
    const uri = `${server.uri}?${CLIENT_OPTIONS}`;
    client = await MongoClient.connect(uri);

    const logFile = path.join(folder, 'log.sqlite');
    const stored = await fillLog(logFile, REBUILD_EVENTS);
    const recording = new RecordingReadModelStore();
    await measureRebuild(logFile, stored, recording);
    const writes = toCollectionWrites(recording.batches);
    const documentWrites = recording.batches.reduce((sum, batch) => sum + batch.length, 0);
    const expectedCounts = await documentCounts(recording);
    console.log(`filled ${logFile} with ${stored} events; the rebuild writes ${documentWrites} documents in ${recording.batches.length} batches`);

    // Alternating the two keeps drift in the machine's state from favouring either.
    for (let run = 1; run <= RUNS; run += 1) {
      const bulkRate = await measureBulkWrite(client.db(`bench_bulk_${run}`), writes, documentWrites);
      figures.record(FIGURE.bulkWrite, 'documents/s', bulkRate);

      const database = `bench_rebuild_${run}`;
      const eventsRate = await measureMongoRebuild(uri, client.db(database), logFile, stored, expectedCounts);
      figures.record(FIGURE.rebuildEvents, 'events/s', eventsRate);
      const documentsRate = (eventsRate * documentWrites) / stored;
      figures.record(FIGURE.rebuildDocuments, 'documents/s', documentsRate);
      console.log(
        `bulkWrite run ${run}: ${bulkRate.toFixed(0)} documents/s; rebuild run ${run}: ${documentsRate.toFixed(0)} documents/s, ${eventsRate.toFixed(0)} events/s`,
      );
    }
  } finally {
    await client?.close();
    // A FerretDB that failed to stop keeps its state folder, whose env file names its pid and database.
    if (await stopFerretDb(stateDir)) rmSync(folder, { recursive: true, force: true });
  }
}

/** Writes every recorded batch with raw driver calls, collection by collection as the store does, and returns documents/s. */
async function measureBulkWrite(db: Db, writes: readonly CollectionWrite[], documentWrites: number): Promise<number> {
  await db.collection('orders').createIndex({ customer_id: 1, _id: 1 }, { name: ORDERS_BY_CUSTOMER_INDEX });
  try {
    const started = performance.now();
    for (const write of writes) {
      const collection = db.collection<ViewDocument>(write.collection);
      if (write.inserts.length > 0) await collection.bulkWrite([...write.inserts], { ordered: false });
      // Small update commands, because larger ones can deadlock FerretDB 1.24 (docs/mongodb.md).
      for (let start = 0; start < write.updates.length; start += FERRETDB_UPDATE_BATCH_SIZE) {
        await collection.bulkWrite(write.updates.slice(start, start + FERRETDB_UPDATE_BATCH_SIZE), { ordered: false });
      }
      if (performance.now() - started > MAX_RUN_MS) throw new Error(`raw bulkWrite took longer than ${MAX_RUN_MS} ms`);
    }
    const elapsedMs = performance.now() - started;
    return (documentWrites * 1000) / elapsedMs;
  } finally {
    await db.dropDatabase();
  }
}

/** Rebuilds into MongoReadModelStore on the empty database `db`, checks the document counts, and returns events/s. */
async function measureMongoRebuild(
  uri: string,
  db: Db,
  logFile: string,
  expectedEvents: number,
  expectedCounts: ReadonlyMap<CollectionName, number>,
): Promise<number> {
  const store = await MongoReadModelStore.connect(uri, { logger: silentLogger, databaseName: db.databaseName });
  try {
    const signal = AbortSignal.timeout(MAX_RUN_MS);
    const eventsRate = await measureRebuild(logFile, expectedEvents, store, signal).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      if (signal.aborted) throw new Error(`rebuild into FerretDB did not finish within ${MAX_RUN_MS} ms: ${reason}`, { cause: error });
      throw error;
    });
    for (const [collection, expected] of expectedCounts) {
      const actual = await db.collection(collection).countDocuments();
      if (actual !== expected) throw new Error(`rebuild left ${actual} documents in ${collection}, expected ${expected}`);
    }
    return eventsRate;
  } finally {
    await store.close();
    await db.dropDatabase();
  }
}

/**
 * Turns the recorded batches into raw driver operations: an insert for a document's first write
 * and an update by _id for a later one, so each batch writes what the store would write.
 */
function toCollectionWrites(batches: readonly (readonly ViewChange[])[]): CollectionWrite[] {
  const written = new Set<string>();
  const writes: CollectionWrite[] = [];
  for (const batch of batches) {
    for (const collection of READ_MODEL_COLLECTIONS) {
      const inserts: AnyBulkWriteOperation<ViewDocument>[] = [];
      const updates: AnyBulkWriteOperation<ViewDocument>[] = [];
      for (const change of batch) {
        if (change.collection !== collection) continue;
        const { id, ...fields } = change.record.view as unknown as Record<string, unknown> & { id: number };
        const document: ViewDocument = { _id: id, ...fields, revision: change.record.revision, deleted: change.record.deleted };
        const key = `${collection}/${id}`;
        if (written.has(key)) {
          const { _id, ...changed } = document;
          updates.push({ updateOne: { filter: { _id }, update: { $set: changed } } });
        } else {
          written.add(key);
          inserts.push({ insertOne: { document } });
        }
      }
      if (inserts.length > 0 || updates.length > 0) writes.push({ collection, inserts, updates });
    }
  }
  return writes;
}

async function documentCounts(store: InMemoryReadModelStore): Promise<Map<CollectionName, number>> {
  const counts = new Map<CollectionName, number>();
  for (const collection of READ_MODEL_COLLECTIONS) counts.set(collection, (await store.list(collection)).length);
  return counts;
}

/** Starts FerretDB with its state in `stateDir` and returns its URI and storage backend. */
async function startFerretDb(stateDir: string): Promise<{ uri: string; backend: string }> {
  const { stdout } = await runFerretDbScript('start', stateDir);
  const uri = stdout.trim().split('\n').pop() ?? '';
  if (!uri.startsWith('mongodb://127.0.0.1:')) throw new Error(`scripts/ferretdb.sh start printed no loopback URI: ${stdout}`);
  const environment = readFileSync(path.join(stateDir, 'ferretdb.env'), 'utf8');
  const backend = /^FERRETDB_BACKEND=(.*)$/m.exec(environment)?.[1] ?? 'unknown';
  return { uri, backend };
}

/** Stops the FerretDB of `stateDir`; returns false, with the error logged, when the script failed. */
async function stopFerretDb(stateDir: string): Promise<boolean> {
  try {
    await runFerretDbScript('stop', stateDir);
    return true;
  } catch (error) {
    // Not thrown, so that an error of the measurement itself stays the step's reported failure.
    const message = error instanceof Error ? error.message : String(error);
    console.error(`scripts/ferretdb.sh stop failed; stop it by hand with FERRETDB_STATE_DIR=${stateDir} scripts/ferretdb.sh stop: ${message}`);
    return false;
  }
}

function runFerretDbScript(command: 'start' | 'stop', stateDir: string): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync('bash', [FERRETDB_SCRIPT, command], {
    env: { ...process.env, FERRETDB_STATE_DIR: stateDir, FERRETDB_EPHEMERAL: '1' },
    timeout: FERRETDB_SCRIPT_TIMEOUT_MS,
  });
}
