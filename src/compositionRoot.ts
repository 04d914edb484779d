import path from 'node:path';
import { Container } from 'inversify';
import { HealthService } from './application/health/HealthService';
import { OrderService } from './application/orders/OrderService';
import { OutboxRelay } from './application/outbox/OutboxRelay';
import type { Clock } from './application/ports/Clock';
import type { EventStore } from './application/ports/EventStore';
import type { IdGenerator } from './application/ports/IdGenerator';
import type { Logger } from './application/ports/Logger';
import type { MessagePublisher } from './application/ports/MessagePublisher';
import type { PasswordHasher } from './application/ports/PasswordHasher';
import type { ReadModelStore } from './application/ports/ReadModelStore';
import { ProductService } from './application/products/ProductService';
import { ProjectionProgress } from './application/projection/ProjectionProgress';
import { Projector } from './application/projection/Projector';
import { QueryService } from './application/queries/QueryService';
import { AggregateRepository } from './application/shared/AggregateRepository';
import { IdAllocator } from './application/shared/IdAllocator';
import { UniqueValueRegistry } from './application/users/UniqueValueRegistry';
import { UserService } from './application/users/UserService';
import type { Config } from './infrastructure/config/config';
import { EsdbEventStore } from './infrastructure/eventstore/EsdbEventStore';
import { SqliteEventStore } from './infrastructure/eventstore/SqliteEventStore';
import { RabbitMqPublisher } from './infrastructure/messaging/RabbitMqPublisher';
import { InMemoryReadModelStore } from './infrastructure/readmodel/InMemoryReadModelStore';
import { MongoReadModelStore } from './infrastructure/readmodel/MongoReadModelStore';
import { BcryptPasswordHasher } from './infrastructure/security/BcryptPasswordHasher';
import { systemClock, uuidGenerator } from './infrastructure/system/systemClock';
import { SERVICE_IDS as ID } from './serviceIds';

/** Events per projector or relay batch: one read model write, or one confirm wait and checkpoint. */
const MAX_BATCH_SIZE = 500;

export type Adapters = {
  readonly eventStore: EventStore;
  readonly readModels: ReadModelStore;
  readonly publisher: RabbitMqPublisher;
};

/** Opens the adapters the configuration selects: embedded or in-memory defaults when no server is configured. */
export async function openAdapters(config: Config, logger: Logger): Promise<Adapters> {
  const eventStore = await openEventStore(config, logger);
  try {
    const readModels =
      config.mongoDbUri === undefined
        ? new InMemoryReadModelStore()
        : await MongoReadModelStore.connect(config.mongoDbUri, { logger });
    const publisher = new RabbitMqPublisher({ url: config.rabbitMqUrl, logger });
    return { eventStore, readModels, publisher };
  } catch (error) {
    await eventStore.close();
    throw error;
  }
}

function openEventStore(config: Config, logger: Logger): Promise<EventStore> {
  const { eventStoreConnectionString: connectionString } = config;
  if (connectionString !== undefined) return Promise.resolve(new EsdbEventStore({ connectionString, logger }));
  return Promise.resolve(SqliteEventStore.open(path.join(config.dataDir, 'events.sqlite'), logger));
}

/** Binds every port and service; the only place that knows which adapter implements which port. */
export function buildContainer(config: Config, logger: Logger, adapters: Adapters): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  const get = <T>(id: symbol): T => container.get<T>(id);

  container.bind<Config>(ID.Config).toConstantValue(config);
  container.bind<Logger>(ID.Logger).toConstantValue(logger);
  container.bind<Clock>(ID.Clock).toConstantValue(systemClock);
  container.bind<IdGenerator>(ID.IdGenerator).toConstantValue(uuidGenerator);
  container.bind<EventStore>(ID.EventStore).toConstantValue(adapters.eventStore);
  container.bind<ReadModelStore>(ID.ReadModelStore).toConstantValue(adapters.readModels);
  container.bind<MessagePublisher>(ID.MessagePublisher).toConstantValue(adapters.publisher);
  container.bind<PasswordHasher>(ID.PasswordHasher).toConstantValue(new BcryptPasswordHasher(config.bcryptCost));

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
  container
    .bind(ID.HealthService)
    .toDynamicValue(
      () => new HealthService(get(ID.EventStore), get(ID.ReadModelStore), get(ID.MessagePublisher), get(ID.Projector), get(ID.OutboxRelay)),
    );

  return container;
}
