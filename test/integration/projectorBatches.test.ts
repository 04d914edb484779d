import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeEvent, type DomainEvent } from '../../src/application/events/eventCodec';
import type { NewEvent } from '../../src/application/ports/EventStore';
import type { CollectionName, ViewChange, ViewRecord } from '../../src/application/ports/ReadModelStore';
import { ProjectionProgress } from '../../src/application/projection/ProjectionProgress';
import { Projector } from '../../src/application/projection/Projector';
import type { OrderStatus } from '../../src/domain/order/orderStatus';
import { SqliteEventStore } from '../../src/infrastructure/eventstore/SqliteEventStore';
import { InMemoryReadModelStore } from '../../src/infrastructure/readmodel/InMemoryReadModelStore';
import { silentLogger } from '../support/silentLogger';

const AT = '2026-03-01T09:00:00.000Z';

/** In-memory read models that record the projector's reads and batches. */
class RecordingReadModelStore extends InMemoryReadModelStore {
  readonly gets: Array<{ collection: CollectionName; id: number }> = [];
  readonly getManyCalls: Array<{ collection: CollectionName; ids: number[] }> = [];
  readonly batches: ViewChange[][] = [];
  /** When set, the checkpoint reads as never stored, as after a crash between the documents and the checkpoint. */
  checkpointLost = false;

  override get<C extends CollectionName>(collection: C, id: number): Promise<ViewRecord<C> | undefined> {
    this.gets.push({ collection, id });
    return super.get(collection, id);
  }

  override getMany<C extends CollectionName>(collection: C, ids: readonly number[]): Promise<Map<number, ViewRecord<C>>> {
    this.getManyCalls.push({ collection, ids: [...ids] });
    return super.getMany(collection, ids);
  }

  override applyChanges(changes: readonly ViewChange[], checkpoint: bigint): Promise<void> {
    this.batches.push([...changes]);
    return super.applyChanges(changes, checkpoint);
  }

  override getCheckpoint(): Promise<bigint | undefined> {
    return this.checkpointLost ? Promise.resolve(undefined) : super.getCheckpoint();
  }

  forgetCalls(): void {
    this.gets.length = 0;
    this.getManyCalls.length = 0;
    this.batches.length = 0;
  }
}

describe('Projector batches', () => {
  let folder: string;
  let eventStore: SqliteEventStore;
  let readModels: RecordingReadModelStore;

  beforeEach(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'shopstream-projector-'));
    eventStore = SqliteEventStore.open(path.join(folder, 'events.sqlite'), silentLogger);
    readModels = new RecordingReadModelStore();
  });

  afterEach(async () => {
    await eventStore.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const newProjector = (): Projector =>
    new Projector(eventStore, readModels, new ProjectionProgress(), silentLogger, {
      maxBatchSize: 500,
      retry: { initialDelayMs: 10, maxDelayMs: 100 },
    });
  const catchUp = (): Promise<number> => newProjector().catchUp();

  const append = async (streamId: string, events: readonly DomainEvent[]): Promise<void> => {
    await eventStore.appendToStream(streamId, events.map(toNewEvent), 'any');
  };

  it('new streams need no reads', async () => {
    await append('user-1', [userRegistered(1, 'ann')]);
    await append('order-1', [orderCreated(1, 1), statusChanged(1, 'pending', 'processed')]);

    await catchUp();

    expect(readModels.gets).toEqual([]);
    expect(readModels.getManyCalls).toEqual([]);
    expect(readModels.batches).toHaveLength(1);
    expect(readModels.batches[0]?.map((change) => change.documentExists)).toEqual([false, false]);
    const order = await readModels.get('orders', 1);
    expect(order?.revision).toBe(1);
    expect(order?.view.status).toBe('processed');
  });

  it('later events read once per collection', async () => {
    await append('user-1', [userRegistered(1, 'ann')]);
    await append('order-1', [orderCreated(1, 1)]);
    await append('order-2', [orderCreated(2, 1)]);
    await catchUp();
    readModels.forgetCalls();

    await append('user-1', [userUpdated(1, { username: 'anna' })]);
    await append('order-1', [statusChanged(1, 'pending', 'processed'), statusChanged(1, 'processed', 'shipped')]);
    await append('order-2', [statusChanged(2, 'pending', 'cancelled')]);
    await append('user-2', [userRegistered(2, 'bob')]);
    await catchUp();

    expect(readModels.gets).toEqual([]);
    expect(readModels.getManyCalls).toEqual([
      { collection: 'users', ids: [1] },
      { collection: 'orders', ids: [1, 2] },
    ]);
    const hints = readModels.batches[0]?.map((change) => [change.collection, change.record.id, change.documentExists]);
    expect(hints).toEqual([
      ['users', 1, true],
      ['orders', 1, true],
      ['orders', 2, true],
      ['users', 2, false],
    ]);
    expect((await readModels.get('users', 1))?.view.username).toBe('anna');
    expect((await readModels.get('orders', 1))?.view.status).toBe('shipped');
    expect((await readModels.get('orders', 1))?.revision).toBe(2);
    expect((await readModels.get('orders', 2))?.view.status).toBe('cancelled');
  });

  it('next batch reuses the last batch', async () => {
    const projector = newProjector();
    await append('order-1', [orderCreated(1, 1)]);
    await projector.catchUp();
    readModels.forgetCalls();

    await append('order-1', [statusChanged(1, 'pending', 'processed')]);
    await projector.catchUp();

    expect(readModels.gets).toEqual([]);
    expect(readModels.getManyCalls).toEqual([]);
    expect(readModels.batches[0]?.[0]?.documentExists).toBe(true);
    expect((await readModels.get('orders', 1))?.view.status).toBe('processed');
  });

  it('stale last batch is not reused', async () => {
    // This projector keeps revision 0 of user 1 from its batch. Another instance, as after a
    // lease handover, then applies revision 1, which only changes the email.
    const projector = newProjector();
    await append('user-1', [userRegistered(1, 'ann')]);
    await projector.catchUp();
    await append('user-1', [userUpdated(1, { email: 'new@example.com' })]);
    await newProjector().catchUp();
    readModels.forgetCalls();

    await append('user-1', [userUpdated(1, { username: 'anna' })]);
    await projector.catchUp();

    expect(readModels.getManyCalls).toEqual([{ collection: 'users', ids: [1] }]);
    const user = await readModels.get('users', 1);
    expect(user?.revision).toBe(2);
    expect(user?.view.email).toBe('new@example.com');
    expect(user?.view.username).toBe('anna');
  });

  it('replay without checkpoint changes nothing', async () => {
    await append('user-1', [userRegistered(1, 'ann'), userUpdated(1, { username: 'anna' })]);
    await append('order-1', [orderCreated(1, 1), statusChanged(1, 'pending', 'processed'), statusChanged(1, 'processed', 'shipped')]);
    await catchUp();
    const users = await readModels.list('users');
    const orders = await readModels.list('orders');

    readModels.checkpointLost = true;
    await catchUp();

    await expect(readModels.list('users')).resolves.toEqual(users);
    await expect(readModels.list('orders')).resolves.toEqual(orders);
  });

  it('replay keeps a newer stored document', async () => {
    // The store contains revision 5 of user 1, as if a later part of the log had been applied.
    const newer: ViewRecord<'users'> = {
      id: 1,
      revision: 5,
      deleted: false,
      view: { id: 1, email: 'ann@example.com', username: 'later', created_at: AT, updated_at: AT },
    };
    await readModels.applyChanges([{ collection: 'users', record: newer }], 100n);
    readModels.checkpointLost = true;
    await append('user-1', [userRegistered(1, 'ann'), userUpdated(1, { username: 'anna' })]);

    await catchUp();

    await expect(readModels.get('users', 1)).resolves.toEqual(newer);
  });
});

function toNewEvent(event: DomainEvent): NewEvent {
  const { type, data } = encodeEvent(event);
  return { id: randomUUID(), type, data, metadata: { occurred_at: AT } };
}

function userRegistered(userId: number, username: string): DomainEvent {
  return {
    type: 'UserRegistered',
    data: { userId, email: `${username}@example.com`, username, passwordHash: '$2b$10$notARealHash', registeredAt: AT },
  };
}

function userUpdated(userId: number, changes: { username?: string; email?: string }): DomainEvent {
  return { type: 'UserUpdated', data: { userId, ...changes, updatedAt: AT } };
}

function orderCreated(orderId: number, customerId: number): DomainEvent {
  return { type: 'OrderCreated', data: { orderId, customerId, totalAmount: { minorUnits: 1050 }, status: 'pending', createdAt: AT } };
}

function statusChanged(orderId: number, from: OrderStatus, to: OrderStatus): DomainEvent {
  return { type: 'OrderStatusChanged', data: { orderId, from, to, changedAt: AT } };
}
