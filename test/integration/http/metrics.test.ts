import { ShopstreamMetrics } from '../../../src/infrastructure/metrics/ShopstreamMetrics';
import { testBackends, type BackendInstance } from '../../support/backends';
import { createTestVhost, describeWithRabbitMq, type TestVhost } from '../../support/rabbitMq';
import { silentLogger } from '../../support/silentLogger';
import { makeDataDir, removeDataDir, startTestApp, waitUntil, type TestApp } from '../../support/testApp';

type Sample = { readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly value: number };

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?[0-9]+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;
const METRICS_TIMEOUT_MS = 15_000;

for (const backend of testBackends()) describeWithRabbitMq(`metrics on ${backend.name}`, () => {
  let vhost: TestVhost;
  let servers: BackendInstance;
  let app: TestApp;

  beforeAll(async () => {
    vhost = await createTestVhost();
    const dataDir = makeDataDir();
    servers = await backend.setUp(dataDir);
    app = await startTestApp({ rabbitMqUrl: vhost.url, dataDir, env: servers.env });

    expect((await app.request('POST', '/users/', { email: 'metrics@example.com', username: 'metrics', password: 'password' })).status).toBe(201);
    expect((await app.request('GET', '/users/1')).status).toBe(200);
    expect((await app.request('GET', '/users/1/')).status).toBe(200);
    expect((await app.request('GET', '/users/abc')).status).toBe(400);
    expect((await app.request('GET', '/no/such/path')).status).toBe(404);
    expect((await app.request('POST', '/orders/', { customer_id: 1, total_amount: 12.5 })).status).toBe(201);
    expect((await app.request('PUT', '/orders/1/status', { status: 'processed' })).status).toBe(200);
  });

  afterAll(async () => {
    await app?.stop();
    await servers?.tearDown();
    await vhost?.remove();
    if (app !== undefined) removeDataDir(app.dataDir);
  });

  it('renders the Prometheus text format', async () => {
    const response = await app.request('GET', '/metrics');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const malformed = response.text.split('\n').filter((line) => line !== '' && !line.startsWith('#') && parseSample(line) === undefined);
    expect(malformed).toEqual([]);
    expect(response.text).toMatch(/^# TYPE shopstream_http_request_duration_seconds histogram$/m);
  });

  it('labels requests by route template', async () => {
    const samples = await scrape(app);

    const count = (labels: Record<string, string>): number | undefined =>
      find(samples, 'shopstream_http_request_duration_seconds_count', labels)?.value;
    expect(count({ method: 'GET', route: '/users/{user_id}', status: '200' })).toBe(2);
    expect(count({ method: 'GET', route: '/users/{user_id}', status: '400' })).toBe(1);
    expect(count({ method: 'POST', route: '/users', status: '201' })).toBe(1);
    expect(count({ method: 'PUT', route: '/orders/{order_id}/status', status: '200' })).toBe(1);
    expect(count({ method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(find(samples, 'shopstream_http_request_duration_seconds_bucket', { route: '/users/{user_id}', status: '200', le: '+Inf' })?.value).toBe(2);

    const routes = new Set(samples.filter((sample) => sample.name.startsWith('shopstream_http_')).map((sample) => sample.labels.route));
    expect([...routes].filter((route) => route !== undefined && /\/[0-9]+(\/|$)|abc|no\/such/.test(route))).toEqual([]);
  });

  it('counts appended events by type', async () => {
    const samples = await scrape(app);

    const appended = (type: string): number | undefined => find(samples, 'shopstream_events_appended_total', { type })?.value;
    expect(appended('UserRegistered')).toBe(1);
    expect(appended('OrderCreated')).toBe(1);
    expect(appended('OrderStatusChanged')).toBe(1);
    expect(appended('ProductCreated')).toBeUndefined();
    expect(appended('IdAllocated')).toBe(2);
  });

  it('counts published and confirmed messages', async () => {
    let samples: Sample[] = [];
    await waitUntil(
      async () => {
        samples = await scrape(app);
        return (find(samples, 'shopstream_messages_confirmed_total', {})?.value ?? 0) >= 2;
      },
      METRICS_TIMEOUT_MS,
      'the broker confirmed the two order messages',
    );

    expect(find(samples, 'shopstream_messages_published_total', {})?.value).toBeGreaterThanOrEqual(2);
    expect(find(samples, 'shopstream_broker_connected', {})?.value).toBe(1);
    expect(find(samples, 'shopstream_broker_reconnects_total', {})?.value).toBe(0);
    expect(find(samples, 'shopstream_errors_total', { component: 'http' })).toBeUndefined();
  });

  it('reports workers caught up', async () => {
    let samples: Sample[] = [];
    await waitUntil(
      async () => {
        samples = await scrape(app);
        return ['projector', 'outbox-relay'].every((worker) => find(samples, 'shopstream_subscription_lag_events', { worker })?.value === 0);
      },
      METRICS_TIMEOUT_MS,
      'the projector and the relay reported no lag',
    );

    for (const worker of ['projector', 'outbox-relay']) {
      expect({ worker, seconds: find(samples, 'shopstream_subscription_lag_seconds', { worker })?.value }).toEqual({ worker, seconds: 0 });
      expect({ worker, positions: find(samples, 'shopstream_subscription_lag_positions', { worker })?.value }).toEqual({ worker, positions: 0 });
      expect({ worker, running: find(samples, 'shopstream_subscription_running', { worker })?.value }).toEqual({ worker, running: 1 });
    }
    expect(samples.some((sample) => sample.name === 'process_cpu_user_seconds_total')).toBe(true);
  });
});

describe('metrics registry', () => {
  it('keeps instances apart', async () => {
    const first = new ShopstreamMetrics({ logger: silentLogger });
    const second = new ShopstreamMetrics({ logger: silentLogger });

    first.countAppendedEvents(['OrderCreated', 'OrderCreated']);
    second.countAppendedEvents(['OrderCreated']);

    expect((await first.render()).body).toMatch(/^shopstream_events_appended_total\{type="OrderCreated"\} 2$/m);
    expect((await second.render()).body).toMatch(/^shopstream_events_appended_total\{type="OrderCreated"\} 1$/m);
  });
});

async function scrape(app: TestApp): Promise<Sample[]> {
  const response = await app.request('GET', '/metrics');
  expect(response.status).toBe(200);
  return response.text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .flatMap((line) => parseSample(line) ?? []);
}

/** Parses one sample line, `name{label="value",…} value`; undefined when it is not one. */
function parseSample(line: string): Sample | undefined {
  const match = SAMPLE_LINE.exec(line);
  if (match === null) return undefined;
  const [, name = '', labelText = '', valueText = ''] = match;

  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  let consumed = 0;
  for (let label = LABEL.exec(labelText); label !== null; label = LABEL.exec(labelText)) {
    labels[label[1] ?? ''] = (label[2] ?? '').replace(/\\(.)/g, (_escape, char: string) => (char === 'n' ? '\n' : char));
    consumed = LABEL.lastIndex;
  }
  if (consumed !== labelText.length) return undefined;

  const value = Number(valueText.replace(/^([+-])Inf$/, '$1Infinity'));
  if (Number.isNaN(value) && valueText !== 'NaN') return undefined;
  return { name, labels, value };
}

/** Finds the sample of `name` whose labels include `labels`. */
function find(samples: readonly Sample[], name: string, labels: Record<string, string>): Sample | undefined {
  return samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}
