import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { Container } from 'inversify';
import { AuditService } from './application/audit/AuditService';
import { HealthService, type LeasedWorker } from './application/health/HealthService';
import { OrderService } from './application/orders/OrderService';
import { OutboxRelay, RELAY_STREAM_PREFIXES } from './application/outbox/OutboxRelay';
import type { Clock } from './application/ports/Clock';
import type { EventStore } from './application/ports/EventStore';
import type { IdGenerator } from './application/ports/IdGenerator';
import type { LeaseStore } from './application/ports/LeaseStore';
import type { Logger } from './application/ports/Logger';
import type { MessagePublisher } from './application/ports/MessagePublisher';
import type { PasswordHasher } from './application/ports/PasswordHasher';
import type { ReadModelStore } from './application/ports/ReadModelStore';
import { ProductService } from './application/products/ProductService';
import { CheckpointWaiter } from './application/projection/CheckpointWaiter';
import { ProjectionProgress, type ProjectionWaiter } from './application/projection/ProjectionProgress';
import { Projector } from './application/projection/Projector';
import { PROJECTED_STREAM_PREFIXES } from './application/projection/projections';
import { QueryService } from './application/queries/QueryService';
import { AggregateRepository } from './application/shared/AggregateRepository';
import { IdAllocator } from './application/shared/IdAllocator';
import { LeasedRunner, type LeasedTask } from './application/shared/LeasedRunner';
import { UniqueValueRegistry } from './application/users/UniqueValueRegistry';
import { UserService } from './application/users/UserService';
import type { Config } from './infrastructure/config/config';
import { EsdbEventStore } from './infrastructure/eventstore/EsdbEventStore';
import { SqliteEventStore } from './infrastructure/eventstore/SqliteEventStore';
import { ProcessLeaseStore } from './infrastructure/lease/ProcessLeaseStore';
import { RabbitMqPublisher } from './infrastructure/messaging/RabbitMqPublisher';
import { MeteredEventStore } from './infrastructure/metrics/MeteredEventStore';
import { MeteredMessagePublisher } from './infrastructure/metrics/MeteredMessagePublisher';
import type { ShopstreamMetrics } from './infrastructure/metrics/ShopstreamMetrics';
import { trackWorkers } from './infrastructure/metrics/trackWorkers';
import { InMemoryReadModelStore } from './infrastructure/readmodel/InMemoryReadModelStore';
import { MongoLease } from './infrastructure/readmodel/MongoLease';
import { MongoReadModelStore } from './infrastructure/readmodel/MongoReadModelStore';
import { BcryptPasswordHasher } from './infrastructure/security/BcryptPasswordHasher';
import { systemClock, uuidGenerator } from './infrastructure/system/systemClock';
import { SERVICE_IDS as ID } from './serviceIds';

/** Events per projector or relay batch: one read model write, or one confirm wait and checkpoint. */
const MAX_BATCH_SIZE = 500;

export type Adapters = {
  readonly eventStore: EventStore;
  readonly readModels: ReadModelStore;
  /** True when other instances share the read models (MongoDB); false for this process's memory. */
  readonly sharedReadModels: boolean;
  readonly leases: LeaseStore & { close?: () => Promise<void> };
  readonly publisher: RabbitMqPublisher;
};

/** Opens the adapters the configuration selects: embedded or in-memory defaults when no server is configured. */
export async function openAdapters(config: Config, logger: Logger): Promise<Adapters> {
  const eventStore = await openEventStore(config, logger);
  try {
    const publisher = new RabbitMqPublisher({ url: config.rabbitMqUrl, logger });
    const { mongoDbUri } = config;
    if (mongoDbUri === undefined) {
      return { eventStore, readModels: new InMemoryReadModelStore(), sharedReadModels: false, leases: new ProcessLeaseStore(), publisher };
    }

    const readModels = await MongoReadModelStore.connect(mongoDbUri, { logger });
    const leases = await MongoLease.connect(mongoDbUri, { logger }).catch(async (error: unknown) => {
      await readModels.close();
      throw error;
    });
    return { eventStore, readModels, sharedReadModels: true, leases, publisher };
  } catch (error) {
    await eventStore.close();
    throw error;
  }
}

/** Opens the event store the configuration selects; also used by the CLI, so both read the same store. */
export function openEventStore(config: Config, logger: Logger): Promise<EventStore> {
  const { eventStoreConnectionString: connectionString } = config;
  if (connectionString !== undefined) return Promise.resolve(new EsdbEventStore({ connectionString, logger }));
  return Promise.resolve(SqliteEventStore.open(path.join(config.dataDir, 'events.sqlite'), logger));
}

/**
 * Binds every port and service; the only place that chooses which adapter implements which port.
 * With `metrics`, appends and publishes are counted and the workers are reported.
 */
export function buildContainer(config: Config, logger: Logger, adapters: Adapters, metrics?: ShopstreamMetrics): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  const get = <T>(id: symbol): T => container.get<T>(id);

  container.bind<Config>(ID.Config).toConstantValue(config);
  container.bind<Logger>(ID.Logger).toConstantValue(logger);
  container.bind<Clock>(ID.Clock).toConstantValue(systemClock);
  container.bind<IdGenerator>(ID.IdGenerator).toConstantValue(uuidGenerator);
  container
    .bind<EventStore>(ID.EventStore)
    .toConstantValue(metrics === undefined ? adapters.eventStore : new MeteredEventStore(adapters.eventStore, metrics));
  container.bind<ReadModelStore>(ID.ReadModelStore).toConstantValue(adapters.readModels);
  container
    .bind<MessagePublisher>(ID.MessagePublisher)
    .toConstantValue(metrics === undefined ? adapters.publisher : new MeteredMessagePublisher(adapters.publisher, metrics));
  container.bind<PasswordHasher>(ID.PasswordHasher).toConstantValue(new BcryptPasswordHasher({ cost: config.bcryptCost, logger }));

  container
    .bind(ID.AggregateRepository)
    .toDynamicValue(() => new AggregateRepository(get(ID.EventStore), get(ID.IdGenerator), get(ID.Clock)));
  container.bind(ID.IdAllocator).toDynamicValue(() => new IdAllocator(get(ID.EventStore), get(ID.AggregateRepository)));
  container
    .bind(ID.UniqueValueRegistry)
    .toDynamicValue(() => new UniqueValueRegistry(get(ID.EventStore), get(ID.AggregateRepository), get(ID.Clock), get(ID.Logger)));
  container
    .bind(ID.UserService)
    .toDynamicValue(
      () =>
        new UserService(
          get(ID.AggregateRepository),
          get(ID.IdAllocator),
          get(ID.UniqueValueRegistry),
          get(ID.PasswordHasher),
          get(ID.Clock),
          get(ID.Logger),
        ),
    );
  container
    .bind(ID.ProductService)
    .toDynamicValue(() => new ProductService(get(ID.AggregateRepository), get(ID.IdAllocator), get(ID.Clock), get(ID.Logger)));
  container
    .bind(ID.OrderService)
    .toDynamicValue(() => new OrderService(get(ID.AggregateRepository), get(ID.IdAllocator), get(ID.Clock), get(ID.Logger)));
  container.bind(ID.QueryService).toDynamicValue(() => new QueryService(get(ID.ReadModelStore)));
  container.bind(ID.AuditService).toDynamicValue(() => new AuditService(get(ID.EventStore)));
  container.bind(ID.ProjectionProgress).toConstantValue(new ProjectionProgress());

  const retry = { initialDelayMs: config.retryInitialDelayMs, maxDelayMs: config.retryMaxDelayMs };
  container
    .bind(ID.Projector)
    .toDynamicValue(
      () =>
        new Projector(get(ID.EventStore), get(ID.ReadModelStore), get(ID.ProjectionProgress), logger.child({ component: 'projector' }), {
          maxBatchSize: MAX_BATCH_SIZE,
          retry,
        }),
    );
  container
    .bind(ID.OutboxRelay)
    .toDynamicValue(
      () =>
        new OutboxRelay(get(ID.EventStore), get(ID.MessagePublisher), get(ID.AggregateRepository), logger.child({ component: 'outbox-relay' }), {
          maxBatchSize: MAX_BATCH_SIZE,
          retry,
        }),
    );
  container.bind(ID.Workers).toDynamicValue(() => buildWorkers(config, logger, adapters.leases, get(ID.Projector), get(ID.OutboxRelay)));
  container
    .bind<ProjectionWaiter>(ID.ProjectionWaiter)
    .toDynamicValue(() =>
      adapters.sharedReadModels
        ? new CheckpointWaiter(get(ID.ReadModelStore), get(ID.ProjectionProgress), logger)
        : get(ID.ProjectionProgress),
    );
  container.bind(ID.HealthService).toDynamicValue(() => {
    const workers = get<Workers>(ID.Workers);
    return new HealthService(get(ID.EventStore), get(ID.ReadModelStore), get(ID.MessagePublisher), workers.projector, workers.relay, {
      stallThresholdMs: config.stallThresholdMs,
      streamPrefixes: { projector: PROJECTED_STREAM_PREFIXES, relay: RELAY_STREAM_PREFIXES },
    });
  });

  if (metrics !== undefined) {
    trackWorkers(metrics, {
      eventStore: adapters.eventStore,
      readModels: adapters.readModels,
      projectorStatus: () => get<Workers>(ID.Workers).projector?.worker.status(),
      relayStatus: () => get<Workers>(ID.Workers).relay?.worker.status(),
    });
  }
  return container;
}

export type Workers = {
  readonly projector: LeasedWorker<Projector>;
  readonly relay: LeasedWorker<OutboxRelay>;
};

/**
 * Wraps the projector and the relay in leases, for the roles this process runs. The projector's
 * lease task catches up before following the log live, so a new holder starts where the
 * stored checkpoint is.
 */
function buildWorkers(config: Config, logger: Logger, leases: LeaseStore, projector: Projector, relay: OutboxRelay): Workers {
  const ownerId = config.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const runner = (name: string, task: LeasedTask): LeasedRunner =>
    new LeasedRunner(leases, { name, ownerId, ttlMs: config.leaseTtlMs }, task, logger);

  const projectorTask: LeasedTask = {
    start: async (signal) => {
      try {
        await projector.catchUp({ signal });
      } catch (error) {
        // The live subscription resumes from the stored checkpoint and retries with backoff,
        // so a failed catch-up only delays the projector instead of leaving the lease idle.
        logger.warn({ err: error, owner: ownerId }, 'projector catch-up failed; following the log from the checkpoint');
      }
      if (!signal.aborted) projector.start();
    },
    stop: () => projector.stop(),
  };
  const relayTask: LeasedTask = {
    start: () => {
      relay.start();
      return Promise.resolve();
    },
    stop: () => relay.stop(),
  };

  return {
    projector: config.roles.includes('projector') ? { worker: projector, runner: runner('projector', projectorTask) } : undefined,
    relay: config.roles.includes('relay') ? { worker: relay, runner: runner('outbox-relay', relayTask) } : undefined,
  };
}
