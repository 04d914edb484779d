import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { MongoClient } from 'mongodb';

/** A server that speaks the MongoDB wire protocol, for one test file. */
export type MongoTestServer = {
  readonly uri: string;
  /** Stops the server when this helper started it; a server from MONGODB_TEST_URI stays up. */
  stop(): Promise<void>;
};

export type MongoTestServerResult =
  | { readonly server: MongoTestServer; readonly skipReason?: undefined }
  | { readonly server?: undefined; readonly skipReason: string };

const SCRIPT = resolve(__dirname, '../../scripts/ferretdb.sh');
/** The first start builds FerretDB from source, which takes minutes on a cold Go module cache. */
const START_TIMEOUT_MS = 15 * 60 * 1000;

/**
 * Returns the server at MONGODB_TEST_URI when set. Otherwise starts a FerretDB instance of this
 * test file's own through `scripts/ferretdb.sh`, with its own state folder and its own backing
 * PostgreSQL database, both deleted on `stop`.
 *
 * It runs synchronously at module load, so a test file can choose between `describe` and
 * `describe.skip` before jest collects the tests. When FerretDB cannot be built or started it
 * returns a skip reason, except under CI=true, where it throws so the suite fails.
 */
export function startMongoTestServer(): MongoTestServerResult {
  const configuredUri = process.env.MONGODB_TEST_URI;
  if (configuredUri !== undefined && configuredUri !== '') {
    return { server: { uri: configuredUri, stop: () => Promise.resolve() } };
  }

  const stateDir = mkdtempSync(join(tmpdir(), 'shopstream-ferretdb-'));
  const env = { ...process.env, FERRETDB_STATE_DIR: stateDir, FERRETDB_EPHEMERAL: '1' };
  const started = spawnSync('bash', [SCRIPT, 'start'], { env, encoding: 'utf8', timeout: START_TIMEOUT_MS });
  const uri = started.stdout?.trim().split('\n').pop() ?? '';

  if (started.status !== 0 || !uri.startsWith('mongodb://')) {
    const output = (started.stderr ?? '').trim().split('\n').slice(-5).join('\n');
    const reason = `FerretDB could not be started by ${SCRIPT} (exit ${started.status ?? started.signal}): ${started.error?.message ?? output}`;
    spawnSync('bash', [SCRIPT, 'stop'], { env, encoding: 'utf8' });
    rmSync(stateDir, { recursive: true, force: true });
    if (process.env.CI === 'true') {
      throw new Error(reason);
    }
    return { skipReason: reason };
  }

  return {
    server: {
      uri: withPoolLimit(uri),
      stop: async () => {
        await runScript('stop', env);
        rmSync(stateDir, { recursive: true, force: true });
      },
    },
  };
}

/**
 * FerretDB 1.24 on PostgreSQL blocks for good once its commands in flight hold every pooled
 * PostgreSQL connection (pool_max_conns, set by scripts/ferretdb.sh). Each update of a command
 * holds one until the command ends. A small driver pool per client keeps a test file's commands
 * in flight well below that size.
 */
const FERRETDB_CLIENT_POOL_SIZE = 4;

function withPoolLimit(uri: string): string {
  const url = new URL(uri);
  if (!url.searchParams.has('maxPoolSize')) {
    url.searchParams.set('maxPoolSize', String(FERRETDB_CLIENT_POOL_SIZE));
  }
  return url.toString();
}

/** Returns a database name that no other test file or run uses. */
export function uniqueDatabaseName(label: string): string {
  return `shopstream_test_${label}_${randomBytes(4).toString('hex')}`;
}

/** Drops the database, giving up after 10 s so that a wedged server cannot stall teardown. */
export async function dropDatabase(uri: string, databaseName: string): Promise<void> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`dropping database ${databaseName} timed out after 10 s`)), 10_000);
  });
  try {
    await Promise.race([client.db(databaseName).dropDatabase(), deadline]);
  } finally {
    clearTimeout(timer);
    await client.close();
  }
}

function runScript(command: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [SCRIPT, command], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) {
        resolvePromise();
      } else {
        reject(new Error(`${SCRIPT} ${command} failed with exit ${code}: ${stderr.trim()}`));
      }
    });
  });
}
