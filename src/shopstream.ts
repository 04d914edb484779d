import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthService } from './application/health/HealthService';
import type { Container } from 'inversify';
import type { Logger } from './application/ports/Logger';
import type { ProjectionWaiter } from './application/projection/ProjectionProgress';
import { buildContainer, openAdapters, type Workers } from './compositionRoot';
import type { Config } from './infrastructure/config/config';
import { ShopstreamMetrics } from './infrastructure/metrics/ShopstreamMetrics';
import { createApp, type HttpDependencies } from './interfaces/http/createApp';
import { SERVICE_IDS as ID } from './serviceIds';

/** A named step of the shutdown; a step with nothing to do for this process's roles returns undefined. */
type ShutdownStep = readonly [name: string, run: () => Promise<void> | undefined];

export type RunningShopstream = {
  /** The port the HTTP server listens on (useful when the configuration asked for port 0); 0 without the api role. */
  readonly port: number;
  readonly baseUrl: string;
  /** Stops accepting connections, finishes in-flight requests, stops the workers and closes every connection. */
  stop(): Promise<void>;
};

/**
 * Starts the parts of shopstream that `ROLES` selects (by default the API, the projector and
 * the outbox relay) in this process. With in-memory read models the HTTP server listens only
 * after the projector has caught up with the log, so the first GET returns every earlier write.
 */
export async function startShopstream(config: Config, logger: Logger): Promise<RunningShopstream> {
  const roles = new Set(config.roles);
  if (config.mongoDbUri === undefined && roles.has('api') && !roles.has('projector')) {
    throw new Error('ROLES has api without projector, which needs shared read models: set MONGODB_URI or add projector');
  }

  const adapters = await openAdapters(config, logger);
  const metrics = new ShopstreamMetrics({ logger });
  const container = buildContainer(config, logger, adapters, metrics);
  const workers = container.get<Workers>(ID.Workers);

  if (workers.projector !== undefined && !adapters.sharedReadModels) {
    await workers.projector.worker.catchUp({
      onProgress: (eventsRead) => {
        if (eventsRead % 100_000 === 0) logger.info({ eventsRead }, 'projector catching up');
      },
    });
  }
  workers.projector?.runner.start();
  if (workers.relay !== undefined) {
    adapters.publisher.connect().catch((error: unknown) => {
      logger.warn({ err: error }, 'message broker unreachable at start; the relay keeps retrying and messages wait in the log');
    });
    workers.relay.runner.start();
  }

  const server = roles.has('api') ? await listen(createApp({ ...httpDependencies(container, config, logger), metrics }), config.port, config.host) : undefined;
  const port = server === undefined ? 0 : (server.address() as AddressInfo).port;
  logger.info({ port, host: config.host, roles: config.roles }, 'shopstream started');

  const stop = async (): Promise<void> => {
    logger.info({ port }, 'shopstream stopping');
    const graceMs = config.shutdownGraceMs;
    const steps: readonly ShutdownStep[] = [
      // Half the grace period for in-flight requests leaves the other half for the relay's batch and the connections.
      ['closing the HTTP server', () => server && closeServer(server, Math.floor(graceMs / 2))],
      ['stopping the outbox relay', () => workers.relay?.runner.stop()],
      ['stopping the projector', () => workers.projector?.runner.stop()],
      ['closing the message broker connection', () => adapters.publisher.close()],
      ['closing the lease store', () => adapters.leases.close?.()],
      ['closing the read model store', () => adapters.readModels.close()],
      ['closing the event store', () => adapters.eventStore.close()],
    ];
    await runWithDeadline(steps, graceMs);
    logger.info({ port }, 'shopstream stopped');
  };

  let stopping: Promise<void> | undefined;
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    stop: () => (stopping ??= stop()),
  };
}

function httpDependencies(container: Container, config: Config, logger: Logger): HttpDependencies {
  return {
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
  };
}

function listen(app: ReturnType<typeof createApp>, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

/** Stops accepting connections and waits for in-flight requests, closing idle keep-alive sockets; forces the rest after the grace period. */
function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    // Without this, a keep-alive connection busy at close() carries new requests until the grace
    // period ends and is then reset mid-request. `Connection: close` ends it after its next response.
    // The listener is prepended so that it runs before the app's handler sends the headers.
    server.prependListener('request', (_request, response) => response.setHeader('Connection', 'close'));
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Runs the shutdown steps in order and rejects once `graceMs` has passed since the first one
 * started, naming the step still running, so SIGTERM ends the process within the grace period
 * even when a dependency does not respond.
 */
async function runWithDeadline(steps: readonly ShutdownStep[], graceMs: number): Promise<void> {
  let pending = steps[0]?.[0] ?? 'nothing';
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`shutdown did not finish within SHUTDOWN_GRACE_MS (${graceMs} ms) while ${pending}`)), graceMs);
  });
  const run = async (): Promise<void> => {
    for (const [name, step] of steps) {
      pending = name;
      await step();
    }
  };
  try {
    await Promise.race([run(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
