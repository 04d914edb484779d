import type {
  CollectionName,
  OrderView,
  ReadModelStore,
  ViewChange,
  ViewRecord,
} from '../../application/ports/ReadModelStore';

type RecordsByCollection = {
  [C in CollectionName]: Map<number, ViewRecord<C>>;
};

/**
 * Read models held in process memory: the embedded default. Nothing survives a restart, so the
 * checkpoint starts undefined and the projector replays the whole log into a fresh store.
 *
 * Records are copied on the way in and on the way out, so neither the projector nor a caller
 * can change stored state by mutating an object it holds.
 */
export class InMemoryReadModelStore implements ReadModelStore {
  private readonly records: RecordsByCollection = {
    users: new Map(),
    products: new Map(),
    orders: new Map(),
  };
  /** Order ids per customer id, so listing a customer's orders does not scan every order. */
  private readonly orderIdsByCustomer = new Map<number, Set<number>>();
  private checkpoint: bigint | undefined;

  get<C extends CollectionName>(collection: C, id: number): Promise<ViewRecord<C> | undefined> {
    const stored = this.collection(collection).get(id);
    return Promise.resolve(stored === undefined ? undefined : copyRecord(stored));
  }

  getMany<C extends CollectionName>(collection: C, ids: readonly number[]): Promise<Map<number, ViewRecord<C>>> {
    const records = new Map<number, ViewRecord<C>>();
    for (const id of ids) {
      const stored = this.collection(collection).get(id);
      if (stored !== undefined) {
        records.set(id, copyRecord(stored));
      }
    }
    return Promise.resolve(records);
  }

  list<C extends CollectionName>(collection: C): Promise<ViewRecord<C>[]> {
    const records = [...this.collection(collection).values()].sort((left, right) => left.id - right.id);
    return Promise.resolve(records.map(copyRecord));
  }

  listOrdersByCustomer(customerId: number): Promise<OrderView[]> {
    const orderIds = [...(this.orderIdsByCustomer.get(customerId) ?? [])].sort((a, b) => a - b);
    const orders: OrderView[] = [];
    for (const orderId of orderIds) {
      const order = this.records.orders.get(orderId);
      if (order !== undefined) {
        orders.push({ ...order.view });
      }
    }
    return Promise.resolve(orders);
  }

  applyChanges(changes: readonly ViewChange[], checkpoint: bigint): Promise<void> {
    for (const change of changes) {
      this.applyChange(change);
    }

    if (this.checkpoint === undefined || checkpoint > this.checkpoint) {
      this.checkpoint = checkpoint;
    }
    return Promise.resolve();
  }

  getCheckpoint(): Promise<bigint | undefined> {
    return Promise.resolve(this.checkpoint);
  }

  clear(): Promise<void> {
    this.records.users.clear();
    this.records.products.clear();
    this.records.orders.clear();
    this.orderIdsByCustomer.clear();
    this.checkpoint = undefined;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private applyChange(change: ViewChange): void {
    switch (change.collection) {
      case 'users':
        this.write('users', change.record);
        return;
      case 'products':
        this.write('products', change.record);
        return;
      case 'orders': {
        const previous = this.records.orders.get(change.record.id);
        if (this.write('orders', change.record)) {
          this.indexOrder(change.record.view, previous?.view);
        }
        return;
      }
      default:
        assertNever(change);
    }
  }

  /** Stores `record` unless the stored revision is the same or newer; returns whether it wrote. */
  private write<C extends CollectionName>(collection: C, record: ViewRecord<C>): boolean {
    const records = this.collection(collection);
    const stored = records.get(record.id);
    if (stored !== undefined && stored.revision >= record.revision) {
      return false;
    }

    records.set(record.id, copyRecord(record));
    return true;
  }

  private indexOrder(order: OrderView, previous: OrderView | undefined): void {
    // Orders never change customer today, but a stale index entry would list the order twice.
    if (previous !== undefined && previous.customer_id !== order.customer_id) {
      this.orderIdsByCustomer.get(previous.customer_id)?.delete(order.id);
    }

    let orderIds = this.orderIdsByCustomer.get(order.customer_id);
    if (orderIds === undefined) {
      orderIds = new Set();
      this.orderIdsByCustomer.set(order.customer_id, orderIds);
    }
    orderIds.add(order.id);
  }

  private collection<C extends CollectionName>(collection: C): Map<number, ViewRecord<C>> {
    return this.records[collection];
  }
}

/** Views are flat objects of primitives, so a shallow copy of the view is a full copy. */
function copyRecord<C extends CollectionName>(record: ViewRecord<C>): ViewRecord<C> {
  return { ...record, view: { ...record.view } };
}

function assertNever(value: never): never {
  throw new Error(`unexpected read model change: ${JSON.stringify(value)}`);
}
