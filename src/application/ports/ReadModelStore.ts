/**
 * The read side: documents shaped as the HTTP API returns them (snake_case), each with the
 * stream revision it reflects. Writes are guarded by that revision, so replaying an event
 * that was already applied changes nothing.
 */

export type UserView = {
  readonly id: number;
  readonly email: string;
  readonly username: string;
  readonly created_at: string;
  readonly updated_at: string;
};

export type ProductView = {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly price: number;
  readonly quantity: number;
  readonly shop_id: number;
  readonly category_id: number;
  readonly created_at: string;
  readonly updated_at: string;
};

export type OrderView = {
  readonly id: number;
  readonly customer_id: number;
  readonly total_amount: number;
  readonly status: string;
  readonly created_at: string;
  readonly updated_at: string;
};

export type ViewsByCollection = {
  readonly users: UserView;
  readonly products: ProductView;
  readonly orders: OrderView;
};

export type CollectionName = keyof ViewsByCollection;

/** One read model document. A deleted resource keeps its document with `deleted: true`. */
export type ViewRecord<C extends CollectionName = CollectionName> = {
  readonly id: number;
  /** Revision of the last event of the resource's stream folded into this document. */
  readonly revision: number;
  readonly deleted: boolean;
  readonly view: ViewsByCollection[C];
};

export type ViewChange = {
  [C in CollectionName]: {
    readonly collection: C;
    readonly record: ViewRecord<C>;
    /**
     * Hint that the projector folded this change into a document it read from the store. A
     * store may then update without trying an insert first. The hint may be stale, so the
     * store must still insert the document when it is missing.
     */
    readonly documentExists?: boolean;
  };
}[CollectionName];

export interface ReadModelStore {
  get<C extends CollectionName>(collection: C, id: number): Promise<ViewRecord<C> | undefined>;
  /** The stored documents among `ids`, keyed by id. An id without a document has no entry. */
  getMany<C extends CollectionName>(collection: C, ids: readonly number[]): Promise<Map<number, ViewRecord<C>>>;
  /** Every document of a collection, lowest id first, deleted ones included; for verification, so it reads the whole collection. */
  list<C extends CollectionName>(collection: C): Promise<ViewRecord<C>[]>;
  /** Orders of one customer, oldest (lowest id) first, deleted or not. */
  listOrdersByCustomer(customerId: number): Promise<OrderView[]>;
  /**
   * Writes each record unless the store already has the same or a newer revision of it,
   * then stores `checkpoint`, the global position of the last event these changes reflect.
   */
  applyChanges(changes: readonly ViewChange[], checkpoint: bigint): Promise<void>;
  /** The position stored by the last `applyChanges`, or undefined when nothing was applied yet. */
  getCheckpoint(): Promise<bigint | undefined>;
  /** Deletes every document and the checkpoint, for a rebuild. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** The read model store cannot be reached; the request may be retried later. */
export class ReadModelUnavailableError extends Error {
  readonly code = 'service_unavailable';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReadModelUnavailableError';
  }
}
