import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { HealthService } from '../../src/application/health/HealthService';
import type { ViewChange } from '../../src/application/ports/ReadModelStore';
import type { ProjectionWaiter } from '../../src/application/projection/ProjectionProgress';
import { buildContainer, type Adapters, type Workers } from '../../src/compositionRoot';
import { loadConfig } from '../../src/infrastructure/config/config';
import { SqliteEventStore } from '../../src/infrastructure/eventstore/SqliteEventStore';
import { ProcessLeaseStore } from '../../src/infrastructure/lease/ProcessLeaseStore';
import { createLogger } from '../../src/infrastructure/logging/createLogger';
import { RabbitMqPublisher } from '../../src/infrastructure/messaging/RabbitMqPublisher';
import { InMemoryReadModelStore } from '../../src/infrastructure/readmodel/InMemoryReadModelStore';
import { createApp } from '../../src/interfaces/http/createApp';
import { SERVICE_IDS as ID } from '../../src/serviceIds';
import { documentValidator } from '../support/openApiResponseValidator';
import { makeDataDir, removeDataDir, waitUntil } from '../support/testApp';

const STALL_THRESHOLD_MS = 300;

/** In-memory read models whose `applyChanges` waits while the gate is closed, as a hung database write would. */
class GatedReadModelStore extends InMemoryReadModelStore {
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  override close(): Promise<void> {
    this.open();
    return super.close();
  }

  closeGate(): void {
    this.gate ??= new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  open(): void {
    this.openGate?.();
    this.gate = undefined;
    this.openGate = undefined;
  }

  override async applyChanges(changes: readonly ViewChange[], checkpoint: bigint): Promise<void> {
    await this.gate;
    return super.applyChanges(changes, checkpoint);
  }
}

type Readiness = { status: number; body: { status: string; projector: { state: string; stalled: boolean; checkpoint: string | null } } };

/**
 * Wires the app as `startShopstream` does, but with read models the test can hang; the relay
 * role is off, so no broker is needed.
 */
describe('projector stall', () => {
  let dataDir: string;
  let adapters: Adapters;
  let readModels: GatedReadModelStore;
  let workers: Workers;
  let server: Server;
  let baseUrl: string;

  const request = async (method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${baseUrl}${urlPath}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    documentValidator().assertDocumented({ method, urlPath, status: response.status, headers: response.headers, text });
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  };
  const readiness = (): Promise<Readiness> => request('GET', '/health/ready');

  beforeEach(async () => {
    dataDir = makeDataDir();
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      BCRYPT_COST: '4',
      ROLES: 'api,projector',
      READ_YOUR_WRITES_TIMEOUT_MS: '100',
      STALL_THRESHOLD_MS: String(STALL_THRESHOLD_MS),
    });
    const logger = createLogger('silent');
    readModels = new GatedReadModelStore();
    adapters = {
      eventStore: SqliteEventStore.open(path.join(dataDir, 'events.sqlite'), logger),
      readModels,
      sharedReadModels: false,
      leases: new ProcessLeaseStore(),
      // Never connected: the relay role is off.
      publisher: new RabbitMqPublisher({ url: config.rabbitMqUrl, logger }),
    };
    const container = buildContainer(config, logger, adapters);
    workers = container.get<Workers>(ID.Workers);
    workers.projector?.runner.start();

    const app = createApp({
      users: container.get(ID.UserService),
      products: container.get(ID.ProductService),
      orders: container.get(ID.OrderService),
      queries: container.get(ID.QueryService),
      audit: container.get(ID.AuditService),
      health: container.get<HealthService>(ID.HealthService),
      projection: container.get<ProjectionWaiter>(ID.ProjectionWaiter),
      ids: container.get(ID.IdGenerator),
      readYourWritesTimeoutMs: config.readYourWritesTimeoutMs,
      logger,
    });
    server = await new Promise<Server>((resolve, reject) => {
      const listening = app.listen(0, '127.0.0.1');
      listening.once('listening', () => resolve(listening));
      listening.once('error', reject);
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await waitUntil(async () => (await readiness()).status === 200, 10_000, 'the app is ready');
  });

  afterEach(async () => {
    readModels.open();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await workers.projector?.runner.stop();
    await adapters.publisher.close();
    await adapters.readModels.close();
    await adapters.eventStore.close();
    removeDataDir(dataDir);
  });

  it('turns not ready and back', async () => {
    const before = await request('POST', '/users/', { email: 'before@example.com', username: 'before', password: 'password1' });
    expect(before.status).toBe(201);
    expect((await readiness()).body.projector.stalled).toBe(false);

    readModels.closeGate();
    const during = await request('POST', '/users/', { email: 'during@example.com', username: 'during', password: 'password1' });
    expect(during.status).toBe(201);

    let stalled: Readiness | undefined;
    await waitUntil(
      async () => {
        const report = await readiness();
        if (report.status !== 503) return false;
        stalled = report;
        return true;
      },
      10_000,
      'readiness reports the stuck projector',
    );
    expect(stalled?.body.status).toBe('not_ready');
    expect(stalled?.body.projector.stalled).toBe(true);
    expect(stalled?.body.projector.state).toBe('running');

    readModels.open();
    await waitUntil(async () => (await readiness()).status === 200, 10_000, 'readiness recovers after the read models answer again');
    const recovered = await readiness();
    expect(recovered.body.projector.stalled).toBe(false);
    expect((await request('GET', `/users/${during.body.id}`)).status).toBe(200);
  });

  it('stays ready while merely idle', async () => {
    const created = await request('POST', '/users/', { email: 'idle@example.com', username: 'idle', password: 'password1' });
    expect(created.status).toBe(201);

    const startedAt = Date.now();
    await waitUntil(async () => (await readiness()).status !== 200 || Date.now() - startedAt > STALL_THRESHOLD_MS * 3, 10_000, 'three thresholds passed');
    const report = await readiness();

    expect(report.status).toBe(200);
    expect(report.body.projector.stalled).toBe(false);
  });
});
