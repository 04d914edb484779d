import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Clock } from '../../../src/application/ports/Clock';
import {
  EventStoreUnavailableError,
  type AllSubscription,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeToAllOptions,
} from '../../../src/application/ports/EventStore';
import type { IdGenerator } from '../../../src/application/ports/IdGenerator';
import { AggregateRepository, MAX_CONFLICT_RETRIES } from '../../../src/application/shared/AggregateRepository';
import { orderAggregate, productAggregate, userAggregate } from '../../../src/application/shared/aggregates';
import { ConcurrencyConflictError, EmailTakenError, PreconditionFailedError, UsernameTakenError } from '../../../src/application/shared/applicationErrors';
import type { CommandContext } from '../../../src/application/shared/CommandContext';
import { RESERVATION_GRACE_MS, reservationStreamName, UniqueValueRegistry } from '../../../src/application/users/UniqueValueRegistry';
import { orderStreamName } from '../../../src/domain/order/orderEvents';
import { productStreamName } from '../../../src/domain/product/productEvents';
import { NotFoundError } from '../../../src/domain/shared/errors';
import { userStreamName } from '../../../src/domain/user/userEvents';
import { SqliteEventStore } from '../../../src/infrastructure/eventstore/SqliteEventStore';
import { silentLogger } from '../../support/silentLogger';

const START = '2026-03-01T09:00:00.000Z';
const CONTEXT: CommandContext = { correlationId: 'request-1', causationId: 'command-1' };
const OTHER_WRITER: CommandContext = { correlationId: 'request-2', causationId: 'command-2' };

/** A clock the test moves by hand, so grace periods pass without waiting. */
class ManualClock implements Clock {
  private nowMs = Date.parse(START);

  now(): string {
    return new Date(this.nowMs).toISOString();
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }
}

/**
 * An event store that delegates to the real one. Each of its first `interferences` appends first
 * runs `interfere`, which writes through the real store as a concurrent writer would between
 * load and append.
 */
class InterferingEventStore implements EventStore {
  appendCalls = 0;

  constructor(
    private readonly inner: EventStore,
    private interferences: number,
    private readonly interfere: () => Promise<unknown>,
  ) {}

  async appendToStream(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    this.appendCalls++;
    if (this.interferences > 0) {
      this.interferences--;
      await this.interfere();
    }
    return this.inner.appendToStream(streamId, events, expected);
  }

  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.inner.readStream(streamId, options);
  }

  readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.inner.readAll(options);
  }

  headPosition(): Promise<bigint | undefined> {
    return this.inner.headPosition();
  }

  subscribeToAll(options: SubscribeToAllOptions): AllSubscription {
    return this.inner.subscribeToAll(options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

const uuids: IdGenerator = { newId: () => randomUUID() };

let folder: string;
let store: SqliteEventStore;
let clock: ManualClock;
let repository: AggregateRepository;

beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'shopstream-repository-'));
  store = SqliteEventStore.open(path.join(folder, 'events.sqlite'), silentLogger);
  clock = new ManualClock();
  repository = new AggregateRepository(store, uuids, clock);
});

afterEach(async () => {
  await store.close();
  fs.rmSync(folder, { recursive: true, force: true });
});

function createOrder(target: AggregateRepository, orderId = 7): ReturnType<AggregateRepository['execute']> {
  return target.execute(
    orderAggregate,
    orderStreamName(orderId),
    { type: 'CreateOrder', orderId, customerId: 1, totalAmount: { minorUnits: 4250 }, now: clock.now() },
    CONTEXT,
  );
}

function changeStatus(
  target: AggregateRepository,
  status: 'pending' | 'processed' | 'shipped' | 'cancelled',
  context: CommandContext = CONTEXT,
): ReturnType<AggregateRepository['execute']> {
  return target.execute(orderAggregate, orderStreamName(7), { type: 'ChangeOrderStatus', orderId: 7, status, now: clock.now() }, context);
}

function createProduct(productId = 2): ReturnType<AggregateRepository['execute']> {
  return repository.execute(
    productAggregate,
    productStreamName(productId),
    {
      type: 'CreateProduct',
      productId,
      name: 'Lamp',
      description: 'Desk lamp',
      price: { minorUnits: 1999 },
      quantity: 1,
      shopId: 3,
      categoryId: 4,
      now: clock.now(),
    },
    CONTEXT,
  );
}

describe('AggregateRepository.execute', () => {
  it('appends with metadata', async () => {
    const result = await createOrder(repository);

    const stored = await store.readStream(orderStreamName(7));
    expect(stored).toHaveLength(1);
    expect(stored[0]?.type).toBe('OrderCreated');
    expect(stored[0]?.data).toEqual({ order_id: 7, customer_id: 1, total_amount: 42.5, status: 'pending', created_at: START });
    expect(stored[0]?.metadata).toEqual({
      correlation_id: 'request-1',
      causation_id: 'command-1',
      occurred_at: START,
      previous_hash: null,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(result.revision).toBe(0n);
    expect(result.position).toBe(stored[0]?.position);
    expect(result.state).toMatchObject({ status: 'pending', id: 7 });
  });

  it('gives each event its own id', async () => {
    await createOrder(repository);
    await changeStatus(repository, 'processed');

    const ids = (await store.readStream(orderStreamName(7))).map((event) => event.id);

    expect(new Set(ids).size).toBe(2);
  });

  it('returns new revision and position', async () => {
    await createOrder(repository);

    const result = await changeStatus(repository, 'processed');

    expect(result.revision).toBe(1n);
    expect(result.position).toBe(await store.headPosition());
    expect(result.events).toEqual([
      { type: 'OrderStatusChanged', data: { orderId: 7, from: 'pending', to: 'processed', changedAt: START } },
    ]);
  });

  it('appends nothing for no-op', async () => {
    await createOrder(repository);
    const head = await store.headPosition();

    const result = await changeStatus(repository, 'pending');

    expect(result.events).toEqual([]);
    expect(result.position).toBeUndefined();
    expect(result.revision).toBe(0n);
    expect(await store.readStream(orderStreamName(7))).toHaveLength(1);
    expect(await store.headPosition()).toBe(head);
  });

  it('propagates domain errors', async () => {
    await expect(changeStatus(repository, 'processed')).rejects.toThrow(NotFoundError);
    expect(await store.readStream(orderStreamName(7))).toEqual([]);
  });

  it('loads missing stream as initial', async () => {
    const loaded = await repository.load(userAggregate, userStreamName(99));

    expect(loaded.state).toEqual({ status: 'none' });
    expect(loaded.revision).toBeUndefined();
  });
});

describe('AggregateRepository If-Match', () => {
  it('accepts current revision', async () => {
    await createOrder(repository);

    const result = await changeStatus(repository, 'processed', { ...CONTEXT, expectedRevision: 0n });

    expect(result.revision).toBe(1n);
  });

  it('rejects stale revision', async () => {
    await createOrder(repository);
    await changeStatus(repository, 'processed');

    const stale = changeStatus(repository, 'cancelled', { ...CONTEXT, expectedRevision: 0n });

    await expect(stale).rejects.toThrow(PreconditionFailedError);
    const stored = await store.readStream(orderStreamName(7));
    expect(stored.map((event) => event.data.to)).toEqual([undefined, 'processed']);
  });

  it('rejects writer racing If-Match', async () => {
    await createOrder(repository);
    const racing = new InterferingEventStore(store, 1, async () => {
      await changeStatus(repository, 'processed', OTHER_WRITER);
    });

    const attempt = changeStatus(new AggregateRepository(racing, uuids, clock), 'cancelled', { ...CONTEXT, expectedRevision: 0n });

    await expect(attempt).rejects.toThrow(PreconditionFailedError);
    expect(racing.appendCalls).toBe(1);
    const stored = await store.readStream(orderStreamName(7));
    expect(stored.map((event) => event.type)).toEqual(['OrderCreated', 'OrderStatusChanged']);
    expect(stored[1]?.metadata.correlation_id).toBe('request-2');
  });
});

describe('AggregateRepository conflicts', () => {
  it('retries on fresh state', async () => {
    await createOrder(repository);
    const racing = new InterferingEventStore(store, 1, async () => {
      await changeStatus(repository, 'processed', OTHER_WRITER);
    });

    const result = await changeStatus(new AggregateRepository(racing, uuids, clock), 'cancelled');

    expect(racing.appendCalls).toBe(2);
    expect(result.events).toEqual([
      { type: 'OrderStatusChanged', data: { orderId: 7, from: 'processed', to: 'cancelled', changedAt: START } },
    ]);
    expect(result.revision).toBe(2n);
    const stored = await store.readStream(orderStreamName(7));
    expect(stored.map((event) => [event.data.from, event.data.to])).toEqual([
      [undefined, undefined],
      ['pending', 'processed'],
      ['processed', 'cancelled'],
    ]);
  });

  it('redecides after competing no-op', async () => {
    await createOrder(repository);
    const racing = new InterferingEventStore(store, 1, async () => {
      await changeStatus(repository, 'processed', OTHER_WRITER);
    });

    const result = await changeStatus(new AggregateRepository(racing, uuids, clock), 'processed');

    expect(result.events).toEqual([]);
    expect(result.position).toBeUndefined();
    expect(await store.readStream(orderStreamName(7))).toHaveLength(2);
  });

  it('succeeds after MAX_CONFLICT_RETRIES conflicts', async () => {
    await createProduct();
    let quantity = 1;
    const racing = new InterferingEventStore(store, MAX_CONFLICT_RETRIES, () => competingQuantityChange(++quantity));

    const result = await renameProduct(new AggregateRepository(racing, uuids, clock));

    expect(racing.appendCalls).toBe(MAX_CONFLICT_RETRIES + 1);
    expect(result.revision).toBe(BigInt(MAX_CONFLICT_RETRIES + 1));
    const last = (await store.readStream(productStreamName(2))).at(-1);
    expect(last?.data.name).toBe('Floor lamp');
  });

  it('gives up after too many conflicts', async () => {
    await createProduct();
    let quantity = 1;
    const racing = new InterferingEventStore(store, MAX_CONFLICT_RETRIES + 1, () => competingQuantityChange(++quantity));

    const attempt = renameProduct(new AggregateRepository(racing, uuids, clock));

    await expect(attempt).rejects.toThrow(ConcurrencyConflictError);
    expect(racing.appendCalls).toBe(MAX_CONFLICT_RETRIES + 1);
    const stored = await store.readStream(productStreamName(2));
    expect(stored).toHaveLength(MAX_CONFLICT_RETRIES + 2);
    expect(stored.some((event) => event.data.name === 'Floor lamp')).toBe(false);
  });

  it('does not retry other errors', async () => {
    await createOrder(repository);
    const failure = new EventStoreUnavailableError('event store is down');
    const failing = new InterferingEventStore(store, 1, () => Promise.reject(failure));

    const attempt = changeStatus(new AggregateRepository(failing, uuids, clock), 'processed');

    await expect(attempt).rejects.toBe(failure);
    expect(failing.appendCalls).toBe(1);
  });

  function competingQuantityChange(quantity: number): Promise<unknown> {
    return repository.execute(
      productAggregate,
      productStreamName(2),
      { type: 'UpdateProduct', productId: 2, quantity, now: clock.now() },
      OTHER_WRITER,
    );
  }

  function renameProduct(target: AggregateRepository): ReturnType<AggregateRepository['execute']> {
    return target.execute(
      productAggregate,
      productStreamName(2),
      { type: 'UpdateProduct', productId: 2, name: 'Floor lamp', now: clock.now() },
      CONTEXT,
    );
  }
});

describe('UniqueValueRegistry', () => {
  let registry: UniqueValueRegistry;

  beforeEach(() => {
    registry = new UniqueValueRegistry(store, repository, clock, silentLogger);
  });

  async function registerUser(userId: number, email: string, username: string): Promise<void> {
    await registry.reserve('email', email, userId, CONTEXT);
    await registry.reserve('username', username, userId, CONTEXT);
    await repository.execute(
      userAggregate,
      userStreamName(userId),
      { type: 'RegisterUser', userId, email, username, passwordHash: 'not-a-real-hash', now: clock.now() },
      CONTEXT,
    );
  }

  async function deleteUser(userId: number): Promise<void> {
    await repository.execute(userAggregate, userStreamName(userId), { type: 'DeleteUser', userId, now: clock.now() }, CONTEXT);
  }

  async function reservationOwner(field: 'email' | 'username', value: string): Promise<unknown> {
    const [last] = await store.readStream(reservationStreamName(field, value), { direction: 'backwards', maxCount: 1 });
    return last?.type === 'UniqueValueReserved' ? last.data.user_id : undefined;
  }

  it('rejects email of another user', async () => {
    await registerUser(1, 'ann@example.com', 'ann');

    await expect(registry.reserve('email', 'ann@example.com', 2, CONTEXT)).rejects.toThrow(EmailTakenError);
    expect(await reservationOwner('email', 'ann@example.com')).toBe(1);
  });

  it('ignores case of taken email', async () => {
    await registerUser(1, 'ann@example.com', 'ann');

    await expect(registry.reserve('email', 'ANN@Example.com', 2, CONTEXT)).rejects.toThrow(EmailTakenError);
    await expect(registry.assertAvailable('email', 'Ann@example.COM')).rejects.toThrow(EmailTakenError);
  });

  it('rejects username of another user', async () => {
    await registerUser(1, 'ann@example.com', 'ann');

    await expect(registry.reserve('username', 'Ann', 2, CONTEXT)).rejects.toThrow(UsernameTakenError);
  });

  it('names the field in details', async () => {
    await registerUser(1, 'ann@example.com', 'ann');

    const error: unknown = await registry.reserve('username', 'ann', 2, CONTEXT).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(UsernameTakenError);
    expect((error as UsernameTakenError).details).toEqual([{ field: 'username', message: 'username is already registered' }]);
  });

  it('keeps value available to owner', async () => {
    await registerUser(1, 'ann@example.com', 'ann');
    const before = await store.readStream(reservationStreamName('email', 'ann@example.com'));

    await expect(registry.assertAvailable('email', 'ann@example.com', 1)).resolves.toBeUndefined();
    await expect(registry.reserve('email', 'ann@example.com', 1, CONTEXT)).resolves.toBeUndefined();
    expect(await store.readStream(reservationStreamName('email', 'ann@example.com'))).toHaveLength(before.length);
  });

  it('frees value of deleted owner', async () => {
    await registerUser(1, 'ann@example.com', 'ann');
    await deleteUser(1);

    await expect(registry.assertAvailable('email', 'ann@example.com')).resolves.toBeUndefined();
    await expect(registry.reserve('email', 'ann@example.com', 2, CONTEXT)).resolves.toBeUndefined();
    expect(await reservationOwner('email', 'ann@example.com')).toBe(2);
  });

  it('frees released value', async () => {
    await registry.reserve('email', 'ann@example.com', 1, CONTEXT);

    await registry.release('email', 'ann@example.com', 1, CONTEXT);

    await expect(registry.reserve('email', 'ann@example.com', 2, CONTEXT)).resolves.toBeUndefined();
    expect(await reservationOwner('email', 'ann@example.com')).toBe(2);
  });

  it('ignores release by non-owner', async () => {
    await registry.reserve('email', 'ann@example.com', 1, CONTEXT);

    await registry.release('email', 'ann@example.com', 2, CONTEXT);

    expect(await reservationOwner('email', 'ann@example.com')).toBe(1);
    await expect(registry.reserve('email', 'ann@example.com', 2, CONTEXT)).rejects.toThrow(EmailTakenError);
  });

  it('holds unregistered reservation during grace', async () => {
    await registry.reserve('email', 'ann@example.com', 1, CONTEXT);

    clock.advance(RESERVATION_GRACE_MS - 1);

    await expect(registry.reserve('email', 'ann@example.com', 2, CONTEXT)).rejects.toThrow(EmailTakenError);
  });

  it('frees unregistered reservation after grace', async () => {
    await registry.reserve('email', 'ann@example.com', 1, CONTEXT);

    clock.advance(RESERVATION_GRACE_MS);

    await expect(registry.reserve('email', 'ann@example.com', 2, CONTEXT)).resolves.toBeUndefined();
    expect(await reservationOwner('email', 'ann@example.com')).toBe(2);
  });

  it('holds registered value after grace', async () => {
    await registerUser(1, 'ann@example.com', 'ann');

    clock.advance(RESERVATION_GRACE_MS * 10);

    await expect(registry.reserve('email', 'ann@example.com', 2, CONTEXT)).rejects.toThrow(EmailTakenError);
  });

  it('frees changed value after grace', async () => {
    await registerUser(1, 'ann@example.com', 'ann');
    await repository.execute(
      userAggregate,
      userStreamName(1),
      { type: 'UpdateUser', userId: 1, username: 'anne', now: clock.now() },
      CONTEXT,
    );

    clock.advance(RESERVATION_GRACE_MS);

    await expect(registry.reserve('username', 'ann', 2, CONTEXT)).resolves.toBeUndefined();
  });

  it('lets one of two racers win', async () => {
    const results = await Promise.allSettled([
      registry.reserve('email', 'ann@example.com', 1, CONTEXT),
      registry.reserve('email', 'ann@example.com', 2, OTHER_WRITER),
    ]);

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((result) => result.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toBeInstanceOf(EmailTakenError);
    expect(await store.readStream(reservationStreamName('email', 'ann@example.com'))).toHaveLength(1);
  });
});
