import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthService } from './application/health/HealthService';
import type { OutboxRelay } from './application/outbox/OutboxRelay';
import type { Logger } from './application/ports/Logger';
import type { ProjectionProgress } from './application/projection/ProjectionProgress';
import type { Projector } from './application/projection/Projector';
import { buildContainer, openAdapters } from './compositionRoot';
import type { Config } from './infrastructure/config/config';
import { createApp } from './interfaces/http/createApp';
import { SERVICE_IDS as ID } from './serviceIds';

export type RunningShopstream = {
  /** The port the HTTP server listens on; useful when the configuration asked for port 0. */
  readonly port: number;
  readonly baseUrl: string;
  /** Stops accepting connections, finishes in-flight requests, stops the workers and closes every connection. */
  stop(): Promise<void>;
};

/**
 * Starts the API, the projector and the outbox relay in this process. The HTTP server
 * listens only after the projector has caught up with the log, so the first GET already
 * sees every earlier write.
 */
export async function startShopstream(config: Config, logger: Logger): Promise<RunningShopstream> {
  const adapters = await openAdapters(config, logger);
  const container = buildContainer(config, logger, adapters);
  const projector = container.get<Projector>(ID.Projector);
  const relay = container.get<OutboxRelay>(ID.OutboxRelay);

  await projector.catchUp((eventsRead) => {
    if (eventsRead % 100_000 === 0) logger.info({ eventsRead }, 'projector catching up');
  });
  projector.start();
  adapters.publisher.connect().catch((error: unknown) => {
    logger.warn({ err: error }, 'message broker unreachable at start; the relay keeps retrying and messages wait in the log');
  });
  relay.start();

  const app = createApp({
    users: container.get(ID.UserService),
    products: container.get(ID.ProductService),
    orders: container.get(ID.OrderService),
    queries: container.get(ID.QueryService),
    health: container.get<HealthService>(ID.HealthService),
    projection: container.get<ProjectionProgress>(ID.ProjectionProgress),
    ids: container.get(ID.IdGenerator),
    readYourWritesTimeoutMs: config.readYourWritesTimeoutMs,
    logger,
  });
  const server = await listen(app, config.port, config.host);
  const { port } = server.address() as AddressInfo;
  logger.info({ port, host: config.host }, 'shopstream listening');

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    logger.info({ port }, 'shopstream stopping');
    await closeServer(server, config.shutdownGraceMs);
    await relay.stop();
    await projector.stop();
    await adapters.publisher.close();
    await adapters.readModels.close();
    await adapters.eventStore.close();
    logger.info({ port }, 'shopstream stopped');
  };

  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    stop: () => (stopping ??= stop()),
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
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
