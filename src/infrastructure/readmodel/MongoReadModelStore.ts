import { MongoClient } from 'mongodb';
import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';

import type { Logger } from '../../application/ports/Logger';
import type {
  CollectionName,
  OrderView,
  ReadModelStore,
  ViewChange,
  ViewRecord,
  ViewsByCollection,
} from '../../application/ports/ReadModelStore';
import { bulkWriteErrors, isDuplicateKeyError, toReadModelError } from './mongoErrors';

export type MongoReadModelStoreOptions = {
  readonly logger: Logger;
  /** Database holding the read models. Default: the database in the URI path, else `shopstream`. */
  readonly databaseName?: string;
  /** How long an operation waits for a reachable server before it fails, in ms. Default: 5000. */
  readonly serverSelectionTimeoutMS?: number;
  /**
   * Maximum updates sent in one `update` command. Default: no limit on MongoDB, and
   * `FERRETDB_UPDATE_BATCH_SIZE` when the server is FerretDB (detected at connect).
   */
  readonly updateBatchSize?: number;
};

/**
 * FerretDB 1.24 keeps one pooled PostgreSQL connection open for every update of an `update`
 * command until the whole command ends (msg_update.go defers each query's close to the end of
 * the handler). A command with as many updates as its pool (pool_max_conns) has connections
 * blocks forever, and so does every other command. Small batches keep well below that size.
 */
export const FERRETDB_UPDATE_BATCH_SIZE = 2;

/** A read model document: `_id` is the resource id, the other view fields sit at the top level. */
export type ViewDocument = {
  _id: number;
  revision: number;
  deleted: boolean;
  [field: string]: unknown;
};

/** A record to write and whether the projector read its document from the store. */
type PendingWrite = { readonly record: ViewRecord; readonly documentExists: boolean };

type CheckpointDocument = {
  _id: string;
  /** Zero-padded to 20 digits, so string order equals numeric order for every 64-bit position. */
  position: string;
  updated_at: Date;
};

export const READ_MODEL_COLLECTIONS = ['users', 'products', 'orders'] as const satisfies readonly CollectionName[];
export const CHECKPOINTS_COLLECTION = 'checkpoints';
export const PROJECTOR_CHECKPOINT_ID = 'projector';
export const ORDERS_BY_CUSTOMER_INDEX = 'customer_id_1__id_1';

/**
 * The fields written to and read from each collection. Anything else on a view object is
 * dropped on write and on read, so a stray field (a password hash, say) never reaches MongoDB
 * or an HTTP response. `id` is not listed because it is stored as `_id`.
 */
const VIEW_FIELDS: { readonly [C in CollectionName]: readonly Exclude<keyof ViewsByCollection[C], 'id'>[] } = {
  users: ['email', 'username', 'created_at', 'updated_at'],
  products: ['name', 'description', 'price', 'quantity', 'shop_id', 'category_id', 'created_at', 'updated_at'],
  orders: ['customer_id', 'total_amount', 'status', 'created_at', 'updated_at'],
};

const POSITION_DIGITS = 20;
const MAX_POSITION = 2n ** 64n - 1n;
const DEFAULT_DATABASE_NAME = 'shopstream';
const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 5000;

/**
 * Read models in MongoDB (or FerretDB 1.24): collections `users`, `products` and `orders`,
 * and the projector checkpoint in `checkpoints`. It uses no transactions because FerretDB 1.x
 * has none. Each write is guarded by stream revision instead, so replays and a second
 * projector cannot move a document backwards.
 */
export class MongoReadModelStore implements ReadModelStore {
  /** Settles when the last queued `applyChanges` call has finished, successfully or not. */
  private applyQueue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly updateBatchSize: number,
  ) {}

  /**
   * Connects, creates the indexes, and returns the store.
   * @throws ReadModelUnavailableError when no server responds within `serverSelectionTimeoutMS`.
   */
  static async connect(uri: string, options: MongoReadModelStoreOptions): Promise<MongoReadModelStore> {
    const client = new MongoClient(uri, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
      ignoreUndefined: true,
    });
    const db = client.db(options.databaseName ?? databaseNameFromUri(uri));
    const logger = options.logger.child({ component: 'MongoReadModelStore', database: db.databaseName });

    let isFerretDb: boolean;
    try {
      await client.connect();
      await ensureIndexes(db);
      const buildInfo = await db.admin().command({ buildInfo: 1 });
      isFerretDb = typeof buildInfo.ferretdbVersion === 'string';
    } catch (error) {
      await client.close().catch(() => undefined);
      throw toReadModelError(error, 'connect');
    }

    const updateBatchSize = options.updateBatchSize ?? (isFerretDb ? FERRETDB_UPDATE_BATCH_SIZE : Infinity);
    logger.info({ isFerretDb, updateBatchSize }, 'read model store connected');
    return new MongoReadModelStore(client, db, logger, updateBatchSize);
  }

  /** The connected database, for adapters that keep their documents beside the read models. */
  get database(): Db {
    return this.db;
  }

  async get<C extends CollectionName>(collection: C, id: number): Promise<ViewRecord<C> | undefined> {
    try {
      const document = await this.collection(collection).findOne({ _id: id });
      return document === null ? undefined : toRecord(collection, document);
    } catch (error) {
      throw toReadModelError(error, `get ${collection}`);
    }
  }

  /**
   * Reads one id with `findOne` and more ids with one `find` by `$in`. FerretDB 1.24 filters
   * `$in` in its own process after reading the whole collection, which costs several times
   * more than the `_id` equality it passes to PostgreSQL.
   */
  async getMany<C extends CollectionName>(collection: C, ids: readonly number[]): Promise<Map<number, ViewRecord<C>>> {
    const uniqueIds = [...new Set(ids)];
    const [firstId] = uniqueIds;
    if (firstId === undefined) {
      return new Map();
    }

    try {
      let documents: ViewDocument[];
      if (uniqueIds.length === 1) {
        const document = await this.collection(collection).findOne({ _id: firstId });
        documents = document === null ? [] : [document];
      } else {
        documents = await this.collection(collection).find({ _id: { $in: uniqueIds } }).toArray();
      }
      return new Map(documents.map((document) => [document._id, toRecord(collection, document)]));
    } catch (error) {
      throw toReadModelError(error, `get many ${collection}`);
    }
  }

  async list<C extends CollectionName>(collection: C): Promise<ViewRecord<C>[]> {
    try {
      const documents = await this.collection(collection).find({}).sort({ _id: 1 }).toArray();
      return documents.map((document) => toRecord(collection, document));
    } catch (error) {
      throw toReadModelError(error, `list ${collection}`);
    }
  }

  async listOrdersByCustomer(customerId: number): Promise<OrderView[]> {
    try {
      const documents = await this.collection('orders')
        .find({ customer_id: customerId })
        .sort({ _id: 1 })
        .toArray();
      return documents.map((document) => toRecord('orders', document).view);
    } catch (error) {
      throw toReadModelError(error, 'list orders by customer');
    }
  }

  /**
   * Calls on one store instance run one after another. FerretDB 1.24 does not apply a filtered
   * update atomically, so two concurrent calls could otherwise move the checkpoint backwards or
   * let an older revision overwrite a newer one. Queuing them closes that gap within a process.
   */
  async applyChanges(changes: readonly ViewChange[], checkpoint: bigint): Promise<void> {
    const position = encodePosition(checkpoint);
    // Chained before the first await, so calls start in the order they were made.
    const applying = this.applyQueue.then(() => this.applyChangesNow(changes, position));
    this.applyQueue = applying.catch(() => undefined);
    await applying;
  }

  async getCheckpoint(): Promise<bigint | undefined> {
    try {
      const document = await this.checkpoints().findOne({ _id: PROJECTOR_CHECKPOINT_ID });
      return document === null ? undefined : BigInt(document.position);
    } catch (error) {
      throw toReadModelError(error, 'get checkpoint');
    }
  }

  async clear(): Promise<void> {
    try {
      // deleteMany rather than drop keeps the indexes in place for the rebuild.
      for (const collection of READ_MODEL_COLLECTIONS) {
        await this.collection(collection).deleteMany({});
      }
      await this.checkpoints().deleteOne({ _id: PROJECTOR_CHECKPOINT_ID });
    } catch (error) {
      throw toReadModelError(error, 'clear');
    }
    this.logger.info({}, 'read models cleared');
  }

  async close(): Promise<void> {
    await this.client.close();
    this.logger.info({}, 'read model store closed');
  }

  private async applyChangesNow(changes: readonly ViewChange[], position: string): Promise<void> {
    const changesByCollection = groupNewestChanges(changes);

    try {
      // One collection at a time: FerretDB 1.24 can deadlock under many concurrent writes.
      for (const collection of READ_MODEL_COLLECTIONS) {
        await this.writeRecords(collection, changesByCollection[collection]);
      }
      await this.storeCheckpoint(position);
    } catch (error) {
      throw toReadModelError(error, 'apply changes');
    }
  }

  /**
   * Writes each record whose stored revision is lower, or that has no document yet, without
   * reading the stored revisions first. A read by `_id: { $in }` made FerretDB 1.24 scan the
   * whole collection once per batch, which cost more than the writes.
   *
   * Records that the projector read from the store (`documentExists`) go out as guarded updates.
   * The others go out as one unordered insert, and those that hit a duplicate key follow as
   * guarded updates. A rebuild therefore needs about one insert command per collection and batch.
   *
   * It avoids upserts on purpose. An upsert whose filter misses because the stored revision is
   * newer turns into an insert that fails with a duplicate key. FerretDB 1.24 stops an update
   * batch at its first error even when the batch is unordered, so every later update of that
   * batch would be skipped without a word. Inserts do honour `ordered: false` on both servers.
   */
  private async writeRecords(collection: CollectionName, writes: readonly PendingWrite[]): Promise<void> {
    const toInsert = writes.filter((write) => !write.documentExists).map((write) => write.record);
    const toUpdate = writes.filter((write) => write.documentExists).map((write) => write.record);

    const duplicates = await this.insertExpectingDuplicates(collection, toInsert);
    await this.updateGuarded(collection, withoutRevisionZero(duplicates));
    await this.updateExpectingDocuments(collection, toUpdate);
  }

  /**
   * Updates records that are expected to exist. When a command matches fewer documents than it
   * has updates, either the guard rejected some or the hint was stale and a document is missing.
   * Its records are then inserted, and those that exist get their guarded update once more.
   */
  private async updateExpectingDocuments(collection: CollectionName, records: readonly ViewRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += this.updateBatchSize) {
      const chunk = records.slice(start, start + this.updateBatchSize);
      const matched = await this.updateGuarded(collection, chunk);
      if (matched < chunk.length) {
        const duplicates = await this.insertExpectingDuplicates(collection, chunk);
        await this.updateGuarded(collection, withoutRevisionZero(duplicates));
      }
    }
  }

  /** Sends `updateOne` with the revision guard for each record and returns how many documents matched. */
  private async updateGuarded(collection: CollectionName, records: readonly ViewRecord[]): Promise<number> {
    // The filter enforces the revision guard.
    // NOTE: FerretDB 1.24 evaluates the filter and writes the document in two steps, so two
    // concurrent writers to one document can both pass the guard and the older one can win.
    // MongoDB applies each single-document update atomically. See docs/mongodb.md.
    const operations = records.map((record) => guardedUpdate(collection, record));
    let matched = 0;
    for (let start = 0; start < operations.length; start += this.updateBatchSize) {
      const result = await this.collection(collection).bulkWrite(operations.slice(start, start + this.updateBatchSize), {
        ordered: false,
      });
      matched += result.matchedCount;
    }
    return matched;
  }

  /** Inserts the records unordered and returns those whose insert hit a duplicate key. */
  private async insertExpectingDuplicates(
    collection: CollectionName,
    records: readonly ViewRecord[],
  ): Promise<ViewRecord[]> {
    if (records.length === 0) {
      return [];
    }

    try {
      await this.collection(collection).insertMany(
        records.map((record) => ({ _id: record.id, ...toDocumentFields(collection, record) }) as ViewDocument),
        { ordered: false },
      );
      return [];
    } catch (error) {
      const writeErrors = bulkWriteErrors(error);
      if (writeErrors === undefined || writeErrors.others.length > 0) {
        throw error;
      }
      this.logger.debug({ collection, count: writeErrors.duplicateKeys.length }, 'documents exist, sending guarded updates');
      return writeErrors.duplicateKeys.map((writeError) => records[writeError.index] as ViewRecord);
    }
  }

  /**
   * Moves the checkpoint forward only. When the stored position is the same or higher, the
   * filter misses, the upsert tries an insert and fails with a duplicate key, which means
   * there is nothing to do.
   */
  private async storeCheckpoint(position: string): Promise<void> {
    try {
      await this.checkpoints().updateOne(
        { _id: PROJECTOR_CHECKPOINT_ID, position: { $lt: position } },
        { $set: { position, updated_at: new Date() } },
        { upsert: true },
      );
    } catch (error) {
      if (!isDuplicateKeyError(error)) {
        throw error;
      }
    }
  }

  private collection(collection: CollectionName): Collection<ViewDocument> {
    return this.db.collection<ViewDocument>(collection);
  }

  private checkpoints(): Collection<CheckpointDocument> {
    return this.db.collection<CheckpointDocument>(CHECKPOINTS_COLLECTION);
  }
}

async function ensureIndexes(db: Db): Promise<void> {
  const orders = db.collection<ViewDocument>('orders');
  // Creating an existing index is a no-op in MongoDB, but FerretDB on PostgreSQL may still take
  // a table lock for it and wait behind running writes, so a restart checks first.
  const existing: Array<{ name?: string }> = await orders.listIndexes().toArray().catch(() => []);
  if (existing.some((index) => index.name === ORDERS_BY_CUSTOMER_INDEX)) return;

  // customer_id first for the filter, _id second so the index also serves "oldest first".
  await orders.createIndex({ customer_id: 1, _id: 1 }, { name: ORDERS_BY_CUSTOMER_INDEX });
}

/** Drops the records at revision 0, which never need an update: a stored document has revision 0 or newer. */
function withoutRevisionZero(records: readonly ViewRecord[]): ViewRecord[] {
  return records.filter((record) => record.revision > 0);
}

function guardedUpdate(collection: CollectionName, record: ViewRecord): AnyBulkWriteOperation<ViewDocument> {
  return {
    updateOne: {
      filter: { _id: record.id, revision: { $lt: record.revision } },
      update: { $set: toDocumentFields(collection, record) },
    },
  };
}

function toDocumentFields(collection: CollectionName, record: ViewRecord): Record<string, unknown> {
  const view = record.view as unknown as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const field of VIEW_FIELDS[collection]) {
    fields[field] = view[field];
  }
  fields.revision = record.revision;
  fields.deleted = record.deleted;
  return fields;
}

function toRecord<C extends CollectionName>(collection: C, document: ViewDocument): ViewRecord<C> {
  const fields: readonly string[] = VIEW_FIELDS[collection];
  const view: Record<string, unknown> = { id: document._id };
  for (const field of fields) {
    view[field] = document[field];
  }
  return {
    id: document._id,
    revision: document.revision,
    deleted: document.deleted,
    view: view as ViewsByCollection[C],
  };
}

/**
 * Keeps only the highest revision of each resource, grouped by collection. An unordered bulk
 * write may run its operations in any order, and the guard would discard the older ones anyway.
 */
function groupNewestChanges(changes: readonly ViewChange[]): Record<CollectionName, PendingWrite[]> {
  const newest: Record<CollectionName, Map<number, PendingWrite>> = {
    users: new Map(),
    products: new Map(),
    orders: new Map(),
  };
  for (const { collection, record, documentExists } of changes) {
    const current = newest[collection].get(record.id);
    if (current === undefined || record.revision > current.record.revision) {
      newest[collection].set(record.id, { record, documentExists: documentExists === true });
    }
  }
  return {
    users: [...newest.users.values()],
    products: [...newest.products.values()],
    orders: [...newest.orders.values()],
  };
}

/** Encodes a 64-bit unsigned position as a fixed-width decimal string, never as a JS number. */
function encodePosition(position: bigint): string {
  if (position < 0n || position > MAX_POSITION) {
    throw new RangeError(`checkpoint ${position} is outside the 64-bit unsigned range`);
  }
  return position.toString().padStart(POSITION_DIGITS, '0');
}

/** Returns the database named in the URI path, or `shopstream` when the path is empty. */
export function databaseNameFromUri(uri: string): string {
  // The driver parses the same path when it connects; here only the name is needed.
  const match = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/.exec(uri);
  const name = match?.[1] === undefined ? '' : decodeURIComponent(match[1]);
  return name === '' ? DEFAULT_DATABASE_NAME : name;
}
