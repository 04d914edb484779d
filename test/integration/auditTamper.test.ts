import path from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from '../../src/interfaces/cli/main';
import { createTestVhost, describeWithRabbitMq, type TestVhost } from '../support/rabbitMq';
import { makeDataDir, removeDataDir, startTestApp, type TestApp } from '../support/testApp';

const HEX_SHA256 = /^[0-9a-f]{64}$/;

type CliRun = { readonly status: number; readonly stdout: string; readonly stderr: string };

/** Runs the CLI in this process against the embedded store in `dataDir`. */
async function cli(dataDir: string, ...argv: string[]): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const status = await runCli(argv, { stdout: (text) => stdout.push(text), stderr: (text) => stderr.push(text) }, { DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  return { status, stdout: stdout.join(''), stderr: stderr.join('') };
}

/** Edits the stored events directly, as an attacker with access to the file could. */
function editStore(dataDir: string, edit: (db: Database.Database) => void): void {
  const db = new Database(path.join(dataDir, 'events.sqlite'));
  try {
    edit(db);
  } finally {
    db.close();
  }
}

describeWithRabbitMq('tampering with the embedded store', () => {
  let vhost: TestVhost;
  let dataDir: string;
  const started: TestApp[] = [];

  async function start(): Promise<TestApp> {
    const app = await startTestApp({ rabbitMqUrl: vhost.url, dataDir });
    started.push(app);
    return app;
  }

  beforeAll(async () => {
    vhost = await createTestVhost();
    dataDir = makeDataDir();
  });

  afterAll(async () => {
    for (const app of started) await app.stop();
    await vhost?.remove();
    if (dataDir !== undefined) removeDataDir(dataDir);
  });

  it('is detected by the API and the CLI', async () => {
    const first = await start();
    const user = await first.request('POST', '/users/', { email: 'tamper@example.com', username: 'tamper', password: 'password1' });
    const customer = user.body.id as number;
    const tampered = (await first.request('POST', '/orders/', { customer_id: customer, total_amount: 250 })).body.id as number;
    await first.request('PUT', `/orders/${tampered}/status`, { status: 'processed' });
    const shortened = (await first.request('POST', '/orders/', { customer_id: customer, total_amount: 80 })).body.id as number;
    await first.request('PUT', `/orders/${shortened}/status`, { status: 'processed' });
    await first.request('PUT', `/orders/${shortened}/status`, { status: 'shipped' });

    const before = await first.request('GET', `/orders/${tampered}/history?verify=true`);
    expect(before.body.verification).toEqual({ valid: true });
    const originalHash = before.body.events[0].metadata.hash as string;
    const clean = await cli(dataDir, 'verify');
    expect(clean.status).toBe(0);
    expect(clean.stdout).toBe('verified 3 streams (6 events): all hash chains valid\n');

    await first.stop();
    editStore(dataDir, (db) => {
      const row = db.prepare("SELECT data FROM events WHERE stream_id = ? AND revision = 0 AND type = 'OrderCreated'").get(`order-${tampered}`) as { data: string };
      const data = JSON.parse(row.data) as Record<string, unknown>;
      expect(data.total_amount).toBe(250);
      db.prepare('UPDATE events SET data = ? WHERE stream_id = ? AND revision = 0').run(JSON.stringify({ ...data, total_amount: 25 }), `order-${tampered}`);
      const deleted = db.prepare('DELETE FROM events WHERE stream_id = ? AND revision = 1').run(`order-${shortened}`);
      expect(deleted.changes).toBe(1);
    });
    const second = await start();

    // The read model is rebuilt from the edited log, so only the chain shows the change.
    expect((await second.request('GET', `/orders/${tampered}`)).body.total_amount).toBe(25);
    const history = await second.request('GET', `/orders/${tampered}/history?verify=true`);
    expect(history.status).toBe(200);
    expect(history.body.verification).toEqual({
      valid: false,
      first_broken_link: { revision: 0, reason: 'hash_mismatch', expected: expect.stringMatching(HEX_SHA256), actual: originalHash },
    });
    expect(history.body.verification.first_broken_link.expected).not.toBe(originalHash);
    const gap = await second.request('GET', `/orders/${shortened}/history?verify=true`);
    expect(gap.body.verification).toEqual({
      valid: false,
      first_broken_link: { revision: 1, reason: 'unexpected_revision', expected: '1', actual: '2' },
    });
    const untouched = await second.request('GET', `/users/${customer}/history?verify=true`);
    expect(untouched.body.verification).toEqual({ valid: true });

    const verify = await cli(dataDir, 'verify', '--progress-every', '1');
    expect(verify.status).toBe(1);
    const lines = verify.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^BROKEN order-${tampered} at revision 0: .*"reason":"hash_mismatch"`));
    expect(lines[0]).toContain(`"actual":"${originalHash}"`);
    expect(lines[1]).toBe(`BROKEN order-${shortened} at revision 1: {"revision":1,"reason":"unexpected_revision","expected":"1","actual":"2"}`);
    expect(lines[2]).toBe('verified 3 streams (5 events): 2 broken');
    expect(verify.stderr).toMatch(/^verify: 1 streams seen, \d+ events read, at position \d+$/m);
    expect(verify.stderr).toMatch(/^verify: 3 streams seen/m);

    const cliHistory = await cli(dataDir, 'history', 'order', String(tampered), '--verify');
    expect(cliHistory.status).toBe(1);
    expect(cliHistory.stderr).toContain(`order-${tampered}: hash chain broken: {"revision":0,"reason":"hash_mismatch"`);
    const events = cliHistory.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(events.map((event) => event.type)).toEqual(['OrderCreated', 'OrderStatusChanged']);
    await second.stop();
  });

  it('CLI prints history and state', async () => {
    const app = await start();
    const user = await app.request('POST', '/users/', { email: 'cli@example.com', username: 'cli-user', password: 'password1' });
    const orderId = (await app.request('POST', '/orders/', { customer_id: user.body.id, total_amount: 12.34 })).body.id as number;
    await app.request('PUT', `/orders/${orderId}/status`, { status: 'cancelled' });
    const current = (await app.request('GET', `/orders/${orderId}`)).body;

    const jsonLines = await cli(dataDir, 'history', 'order', String(orderId));
    expect(jsonLines.status).toBe(0);
    const events = jsonLines.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(events.map((event) => [event.revision, event.type])).toEqual([
      [0, 'OrderCreated'],
      [1, 'OrderStatusChanged'],
    ]);
    expect(typeof events[0].position).toBe('string');

    const table = await cli(dataDir, 'history', 'order', String(orderId), '--format', 'table');
    expect(table.status).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^REVISION +POSITION +OCCURRED_AT +TYPE +DATA$/);
    expect(rows[2]).toMatch(/^1 +\d+ +\S+Z +OrderStatusChanged +\{"order_id":\d+,"from":"pending","to":"cancelled"/);

    const userHistory = await cli(dataDir, 'history', 'user', String(user.body.id));
    expect(userHistory.stdout).toContain('"password_hash":"[redacted]"');
    expect(userHistory.stdout).not.toMatch(/\$2[aby]\$/);

    const atRevision = await cli(dataDir, 'state', 'order', String(orderId), '--revision', '0');
    expect(atRevision.status).toBe(0);
    expect(JSON.parse(atRevision.stdout)).toEqual({ revision: 0, order: { ...current, status: 'pending', updated_at: current.created_at } });
    const asOf = await cli(dataDir, 'state', 'order', String(orderId), '--as-of', events[1].metadata.occurred_at);
    expect(JSON.parse(asOf.stdout)).toEqual({ revision: 1, order: current });

    const missing = await cli(dataDir, 'state', 'order', String(orderId), '--revision', '9');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`shopstream state: order ${orderId} has revisions 0 to 1; revision 9 does not exist\n`);
    const unknownStream = await cli(dataDir, 'history', 'product', '999');
    expect(unknownStream.status).toBe(1);
    expect(unknownStream.stderr).toMatch(/product 999 has no history/);
  });

  it('CLI explains invalid arguments', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /^usage: shopstream <command>/],
      [['audit'], /unknown command "audit"; commands: history, state, verify/],
      [['history', 'invoice', '1'], /unknown resource "invoice"; expected one of: user, product, order/],
      [['history', 'order', '0'], /id must be a positive integer \(got "0"\)\nusage: shopstream history <order\|user\|product> <id>/],
      [['history', 'order', '1', '--format', 'xml'], /--format must be one of: jsonl, table/],
      [['history', 'order', '1', '--limit', '3'], /Unknown option '--limit'/],
      [['state', 'user', '1', '--revision', '0'], /state supports only orders/],
      [['state', 'order', '1'], /missing --as-of <time> or --revision <n>/],
      [['state', 'order', '1', '--revision=-1'], /--revision must be a non-negative integer/],
      [['state', 'order', '1', '--revision', '1.5'], /--revision must be a non-negative integer/],
      [['state', 'order', '1', '--as-of', '2026-03-01'], /--as-of must be an ISO-8601 date and time with a zone/],
      [['state', 'order', '1', '--as-of', '2026-03-01T00:00:00Z', '--revision', '1'], /cannot be combined/],
      [['verify', '--progress-every', '0'], /--progress-every must be a positive integer/],
      [['verify', 'now'], /unexpected argument "now"/],
    ];

    for (const [argv, message] of cases) {
      const run = await cli(dataDir, ...argv);

      expect({ argv, status: run.status, stdout: run.stdout }).toEqual({ argv, status: 2, stdout: '' });
      expect(run.stderr).toMatch(message);
    }
  });

  it('CLI prints help and config errors', async () => {
    const general = await cli(dataDir, 'help');
    expect(general.status).toBe(0);
    expect(general.stdout).toMatch(/^ {2}history +print every event/m);
    expect(general.stdout).toMatch(/^ {2}verify +check the hash chain/m);

    const command = await cli(dataDir, 'state', '--help');
    expect(command.status).toBe(0);
    expect(command.stdout).toMatch(/^usage: shopstream state order <id> \(--as-of <time> \| --revision <n>\)/);

    const missingStore = await cli(path.join(dataDir, 'no-such-folder'), 'verify');
    expect(missingStore.status).toBe(1);
    expect(missingStore.stderr).toMatch(/no event store at .*no-such-folder.*events\.sqlite; set DATA_DIR/);

    const badConfig = await runCli(['verify'], { stdout: () => undefined, stderr: () => undefined }, { EVENTSTORE_CONNECTION_STRING: 'http://x' });
    expect(badConfig).toBe(2);
  });
});
