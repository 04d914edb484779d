import { randomUUID } from 'node:crypto';
import { RELAY_CHECKPOINT_STREAM } from '../src/application/outbox/OutboxRelay';
import { chainNewEvents } from '../src/application/audit/hashChain';
import type { DomainEvent } from '../src/application/events/eventCodec';
import type { ExpectedRevision, NewEvent } from '../src/application/ports/EventStore';
import { AggregateRepository, type Aggregate } from '../src/application/shared/AggregateRepository';
import { orderAggregate, productAggregate, userAggregate } from '../src/application/shared/aggregates';
import type { CommandContext } from '../src/application/shared/CommandContext';
import { idSequenceStreamName, type ResourceKind } from '../src/application/shared/IdAllocator';
import { reservationStreamName } from '../src/application/users/UniqueValueRegistry';
import type { OrderState } from '../src/domain/order/orderState';
import type { OrderStatus } from '../src/domain/order/orderStatus';
import type { ProductState } from '../src/domain/product/productState';
import { SqliteEventStore } from '../src/infrastructure/eventstore/SqliteEventStore';
import { uuidGenerator } from '../src/infrastructure/system/systemClock';
import { silentLogger } from './storeBenchmarks';

/**
 * Rates of the simulated marketplace, per order placed. They are estimates of a shop where a
 * customer places about 10 orders over the log's lifetime, not figures taken from a real shop.
 */
const REGISTRATIONS_PER_ORDER = 0.1;
const PRODUCTS_CREATED_PER_ORDER = 0.02;
const PRODUCT_UPDATES_PER_ORDER = 0.02;
const PRODUCT_DELETIONS_PER_ORDER = 0.002;
/** The relay stores a checkpoint after each batch, and a relay that keeps up with traffic sends small batches. */
const ORDER_EVENTS_PER_RELAY_CHECKPOINT = 20;
/** Simulated time between two orders, so timestamps spread as in a live shop. */
const MS_PER_ORDER = 1_500;
/** A status change comes after 1 to this many newer orders were placed. */
const MAX_STATUS_CHANGE_DELAY = 400;
/** Every this many orders one goes to the heavy customer, until it has HEAVY_CUSTOMER_ORDERS. */
const HEAVY_CUSTOMER_EVERY = 1_000;
export const HEAVY_CUSTOMER_ORDERS = 100;
/** Appends handed to the store before waiting, so its group commit batches them as concurrent requests would. */
const FILL_CONCURRENCY = 500;

/** Counts of a filled log, for checks and for picking ids to request. */
export type MarketplaceLog = {
  readonly events: number;
  readonly users: number;
  readonly products: number;
  readonly orders: number;
  /** A customer with HEAVY_CUSTOMER_ORDERS orders (fewer when the log is too short to hold them). */
  readonly heavyCustomerId: number;
  readonly heavyCustomerOrders: number;
};

type PlannedAppend = { readonly streamId: string; readonly event: NewEvent; readonly expected: ExpectedRevision };

/** A user, product or order stream as the simulation follows it: folded state, last revision, and the hash the next event chains to. */
type TrackedStream<S> = { state: S; revision: number; lastHash: string | null };

type OpenOrder = {
  readonly stream: TrackedStream<OrderState>;
  /** Statuses the order still moves through, in order. */
  readonly nextStatuses: OrderStatus[];
};

/**
 * Fills `file` with exactly `target` events in the order and formats the app appends them: id
 * allocations, email and username reservations, hash-chained user, product and order events
 * built by the domain's `decide` functions, and relay checkpoints, all through SqliteEventStore.
 * The relay's last checkpoint covers the last order event, so an app started on the file
 * publishes nothing. Users are never updated or deleted in this log. `file` must not exist yet,
 * because the relay checkpoints name positions counted from 1.
 */
export async function fillMarketplaceLog(file: string, target: number): Promise<MarketplaceLog> {
  const store = SqliteEventStore.open(file, silentLogger);
  try {
    const simulation = new MarketplaceSimulation(store, target);
    let pending: Promise<unknown>[] = [];
    for (const { streamId, event, expected } of simulation.appends()) {
      pending.push(store.appendToStream(streamId, [event], expected));
      if (pending.length >= FILL_CONCURRENCY) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);

    const head = await store.headPosition();
    const log = simulation.summary();
    if (head !== BigInt(log.events) || log.events !== target) {
      throw new Error(`filled ${file} up to position ${String(head)} with ${log.events} events, expected ${target}`);
    }
    return log;
  } finally {
    await store.close();
  }
}

/** Generates a marketplace's appends in log order from a seeded random sequence, one event per append as the app writes them. */
class MarketplaceSimulation {
  private readonly random = seededRandom(20_261_204);
  private readonly repository: AggregateRepository;
  private nowMs = Date.UTC(2026, 0, 1);
  private emitted = 0;
  private users = 0;
  private products = 0;
  private orders = 0;
  private heavyCustomerOrders = 0;
  private readonly liveProducts = new Map<number, TrackedStream<ProductState>>();
  private readonly openOrders = new Map<number, OpenOrder>();
  /** Order ids due for their next status change, by the order count at which it happens. */
  private readonly statusChangesDue = new Map<number, number[]>();
  private orderEventsSinceCheckpoint = 0;
  private lastOrderEvent: { position: number; eventId: string } | undefined;
  private relayCheckpoints = 0;

  constructor(
    store: SqliteEventStore,
    private readonly target: number,
  ) {
    // Only newEvent and toNewEvent are called, which read the clock and the id generator, not the store.
    const clock = { now: () => this.now() };
    this.repository = new AggregateRepository(store, uuidGenerator, clock);
  }

  /** Yields appends until the log contains `target` events, the last of them a relay checkpoint. */
  *appends(): Generator<PlannedAppend> {
    // One event is kept back for the final relay checkpoint, so the relay starts caught up.
    while (this.emitted < this.target - 1) {
      for (const append of this.tick()) {
        if (this.emitted >= this.target - 1) break;
        yield this.emit(append);
      }
    }
    if (this.emitted < this.target) yield this.emit(this.relayCheckpoint());
  }

  summary(): MarketplaceLog {
    return {
      events: this.emitted,
      users: this.users,
      products: this.products,
      orders: this.orders,
      heavyCustomerId: 1,
      heavyCustomerOrders: this.heavyCustomerOrders,
    };
  }

  private now(): string {
    return new Date(this.nowMs).toISOString();
  }

  /** Counts an append as it leaves the generator, so a tick cut short at the target is counted exactly. */
  private emit(append: PlannedAppend): PlannedAppend {
    this.emitted += 1;
    const { streamId, event } = append;
    if (event.type === 'UserRegistered') this.users += 1;
    if (event.type === 'ProductCreated') this.products += 1;
    if (event.type === 'OrderCreated') {
      this.orders += 1;
      if (event.data.customer_id === 1) this.heavyCustomerOrders += 1;
    }
    if (streamId.startsWith('order-')) {
      this.lastOrderEvent = { position: this.emitted, eventId: event.id };
      this.orderEventsSinceCheckpoint += 1;
    }
    return append;
  }

  /** Yields the appends of one order placed and of the registrations, catalogue changes and status changes around it. */
  private *tick(): Generator<PlannedAppend> {
    this.nowMs += MS_PER_ORDER;
    const orderNumber = this.orders + 1;

    if (this.users === 0 || this.random() < REGISTRATIONS_PER_ORDER) yield* this.registerUser();
    if (this.liveProducts.size === 0 || this.random() < PRODUCTS_CREATED_PER_ORDER) yield* this.createProduct();
    if (this.random() < PRODUCT_UPDATES_PER_ORDER) yield* this.updateProduct();
    if (this.random() < PRODUCT_DELETIONS_PER_ORDER && this.liveProducts.size > 1) yield* this.deleteProduct();

    for (const orderId of this.statusChangesDue.get(orderNumber) ?? []) yield* this.changeOrderStatus(orderId, orderNumber);
    this.statusChangesDue.delete(orderNumber);
    yield* this.createOrder(orderNumber);

    if (this.orderEventsSinceCheckpoint >= ORDER_EVENTS_PER_RELAY_CHECKPOINT) yield this.relayCheckpoint();
  }

  private *registerUser(): Generator<PlannedAppend> {
    const context = newContext();
    const userId = this.users + 1;
    yield this.allocateId('user', context);
    const email = `shopper${userId}@shop.example`;
    const username = `shopper_${userId}`;
    const now = this.now();
    for (const [field, value] of [['email', email], ['username', username]] as const) {
      const event = this.repository.newEvent('UniqueValueReserved', { field, user_id: userId, reserved_at: now }, context);
      yield { streamId: reservationStreamName(field, value), event, expected: 'no_stream' };
    }
    // Projections ignore the hash's value, so it is random hex (a subset of bcrypt's alphabet) of bcrypt's output length.
    const passwordHash = `$2b$10$${randomUUID().replaceAll('-', '')}${randomUUID().replaceAll('-', '').slice(0, 21)}`;
    const command = { type: 'RegisterUser', userId, email, username, passwordHash, now } as const;
    yield* this.execute(userAggregate, `user-${userId}`, newStream(userAggregate), command, context);
  }

  private *createProduct(): Generator<PlannedAppend> {
    const context = newContext();
    const productId = this.products + 1;
    yield this.allocateId('product', context);
    const product = newStream(productAggregate);
    const command = {
      type: 'CreateProduct',
      productId,
      name: `Product ${productId}`,
      description: `Description of product ${productId}: `.padEnd(40 + Math.floor(this.random() * 300), 'lorem ipsum '),
      price: { minorUnits: 100 + Math.floor(this.random() * 50_000) },
      quantity: Math.floor(this.random() * 1_000),
      shopId: 1 + Math.floor(this.random() * 200),
      categoryId: 1 + Math.floor(this.random() * 50),
      now: this.now(),
    } as const;
    yield* this.execute(productAggregate, `product-${productId}`, product, command, context);
    this.liveProducts.set(productId, product);
  }

  private *updateProduct(): Generator<PlannedAppend> {
    const productId = this.pickLiveProduct();
    const product = productId === undefined ? undefined : this.liveProducts.get(productId);
    if (productId === undefined || product === undefined) return;
    const command = {
      type: 'UpdateProduct',
      productId,
      price: { minorUnits: 100 + Math.floor(this.random() * 50_000) },
      quantity: Math.floor(this.random() * 1_000),
      now: this.now(),
    } as const;
    yield* this.execute(productAggregate, `product-${productId}`, product, command);
  }

  private *deleteProduct(): Generator<PlannedAppend> {
    const productId = this.pickLiveProduct();
    const product = productId === undefined ? undefined : this.liveProducts.get(productId);
    if (productId === undefined || product === undefined) return;
    this.liveProducts.delete(productId);
    yield* this.execute(productAggregate, `product-${productId}`, product, { type: 'DeleteProduct', productId, now: this.now() });
  }

  private *createOrder(orderNumber: number): Generator<PlannedAppend> {
    const context = newContext();
    const orderId = orderNumber;
    const heavy = orderId % HEAVY_CUSTOMER_EVERY === 1 && this.heavyCustomerOrders < HEAVY_CUSTOMER_ORDERS;
    // Other customers exclude the heavy customer (user 1), so its order count stays exact.
    const customerId = heavy || this.users < 2 ? 1 : 2 + Math.floor(this.random() * (this.users - 1));
    yield this.allocateId('order', context);
    const order = newStream(orderAggregate);
    const totalAmount = { minorUnits: 500 + Math.floor(this.random() * 100_000) };
    const command = { type: 'CreateOrder', orderId, customerId, totalAmount, now: this.now() } as const;
    const nextStatuses = this.orderFate();
    if (nextStatuses.length > 0) {
      this.openOrders.set(orderId, { stream: order, nextStatuses });
      this.scheduleStatusChange(orderId, orderNumber);
    }
    yield* this.execute(orderAggregate, `order-${orderId}`, order, command, context);
  }

  private *changeOrderStatus(orderId: number, orderNumber: number): Generator<PlannedAppend> {
    const order = this.openOrders.get(orderId);
    const status = order?.nextStatuses.shift();
    if (order === undefined || status === undefined) return;
    if (order.nextStatuses.length > 0) this.scheduleStatusChange(orderId, orderNumber);
    else this.openOrders.delete(orderId);
    yield* this.execute(orderAggregate, `order-${orderId}`, order.stream, { type: 'ChangeOrderStatus', orderId, status, now: this.now() });
  }

  /**
   * Decides `command` on the stream's state and yields each event with the hash chain fields, as
   * AggregateRepository.execute appends them, moving `stream` past it.
   */
  private *execute<S, E extends DomainEvent, C>(
    aggregate: Aggregate<S, E, C>,
    streamId: string,
    stream: TrackedStream<S>,
    command: C,
    context: CommandContext = newContext(),
  ): Generator<PlannedAppend> {
    for (const event of aggregate.decide(command, stream.state)) {
      const revision = stream.revision + 1;
      const [chained] = chainNewEvents(streamId, BigInt(revision), stream.lastHash, [this.repository.toNewEvent(event, context)]);
      if (chained === undefined) throw new Error(`chainNewEvents returned no event for ${streamId}`);
      stream.state = aggregate.evolve(stream.state, event);
      stream.revision = revision;
      stream.lastHash = String(chained.metadata.hash);
      yield { streamId, event: chained, expected: revision === 0 ? 'no_stream' : BigInt(revision - 1) };
    }
  }

  /** 70 % delivered, 15 % still shipped, 10 % cancelled, 5 % still pending at the end of the log. */
  private orderFate(): OrderStatus[] {
    const draw = this.random();
    if (draw < 0.7) return ['processed', 'shipped', 'delivered'];
    if (draw < 0.85) return ['processed', 'shipped'];
    if (draw < 0.95) return ['cancelled'];
    return [];
  }

  private scheduleStatusChange(orderId: number, orderNumber: number): void {
    const due = orderNumber + 1 + Math.floor(this.random() * MAX_STATUS_CHANGE_DELAY);
    const orderIds = this.statusChangesDue.get(due) ?? [];
    orderIds.push(orderId);
    this.statusChangesDue.set(due, orderIds);
  }

  private allocateId(kind: ResourceKind, context: CommandContext): PlannedAppend {
    return { streamId: idSequenceStreamName(kind), event: this.repository.newEvent('IdAllocated', { resource: kind }, context), expected: 'any' };
  }

  /** Checkpoint at the last order event emitted, with the revision the relay would have read. */
  private relayCheckpoint(): PlannedAppend {
    const last = this.lastOrderEvent ?? { position: 0, eventId: randomUUID() };
    const event = this.repository.newEvent(
      'RelayCheckpointStored',
      { position: String(last.position) },
      { correlationId: 'outbox-relay', causationId: last.eventId },
    );
    const expected: ExpectedRevision = this.relayCheckpoints === 0 ? 'no_stream' : BigInt(this.relayCheckpoints - 1);
    this.relayCheckpoints += 1;
    this.orderEventsSinceCheckpoint = 0;
    return { streamId: RELAY_CHECKPOINT_STREAM, event, expected };
  }

  private pickLiveProduct(): number | undefined {
    if (this.liveProducts.size === 0) return undefined;
    const ids = [...this.liveProducts.keys()];
    return ids[Math.floor(this.random() * ids.length)];
  }
}

/** Returns a stream before its first append: the aggregate's initial state, before revision 0. */
function newStream<S>(aggregate: { readonly initialState: S }): TrackedStream<S> {
  return { state: aggregate.initialState, revision: -1, lastHash: null };
}

function newContext(): CommandContext {
  return { correlationId: randomUUID(), causationId: randomUUID() };
}

/** mulberry32: a small seeded generator, so every run fills the same shape of log. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
