import { MongoClient } from 'mongodb';
import type { Collection, Db } from 'mongodb';

import type { Logger } from '../../application/ports/Logger';
import { databaseNameFromUri } from './MongoReadModelStore';
import { isDuplicateKeyError, toReadModelError } from './mongoErrors';

export const LEASES_COLLECTION = 'leases';

type LeaseDocument = {
  /** Lease name, e.g. `projector` or `relay`. */
  _id: string;
  owner: string;
  expires_at: Date;
};

export type MongoLeaseOptions = {
  readonly logger: Logger;
  /**
   * Source of the current time. Default: this machine's clock.
   *
   * The lease uses a client clock, not the server's, because FerretDB 1.24 supports neither
   * `$$NOW` nor update pipelines, so a filter cannot compare `expires_at` with the server's
   * time in the same atomic operation. As a result, the clocks of all instances must agree to
   * well within the TTL (NTP keeps them within milliseconds). An instance whose clock runs
   * ahead by more than the remaining TTL can take over a lease that has not yet expired.
   */
  readonly now?: () => Date;
};

export type MongoLeaseConnectOptions = MongoLeaseOptions & {
  /** Default: the database in the URI path, else `shopstream`. */
  readonly databaseName?: string;
  /** How long an operation waits for a reachable server before it fails, in ms. Default: 5000. */
  readonly serverSelectionTimeoutMS?: number;
};

/**
 * A named lease with an expiry, so that only one projector or one relay is active at a time
 * across instances. Every operation is a single-document atomic write, because FerretDB 1.x
 * has no transactions.
 *
 * NOTE: a lease is not a fence. A holder that pauses past its expiry (a long GC, a frozen VM)
 * can still write once it resumes, alongside the new holder. The read model revision guard and
 * the forward-only checkpoint make such a late projector write harmless, and message
 * consumers deduplicate on the message id.
 */
export class MongoLease {
  private readonly leases: Collection<LeaseDocument>;
  private readonly logger: Logger;
  private readonly now: () => Date;

  constructor(
    db: Db,
    options: MongoLeaseOptions,
    private readonly ownedClient?: MongoClient,
  ) {
    this.leases = db.collection<LeaseDocument>(LEASES_COLLECTION);
    this.logger = options.logger.child({ component: 'MongoLease' });
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Connects a client of its own. Use the constructor instead to share the read model store's
   * database.
   * @throws ReadModelUnavailableError when no server responds within `serverSelectionTimeoutMS`.
   */
  static async connect(uri: string, options: MongoLeaseConnectOptions): Promise<MongoLease> {
    const client = new MongoClient(uri, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5000,
    });
    try {
      await client.connect();
    } catch (error) {
      await client.close().catch(() => undefined);
      throw toReadModelError(error, 'connect');
    }
    const db = client.db(options.databaseName ?? databaseNameFromUri(uri));
    return new MongoLease(db, options, client);
  }

  /**
   * Takes the lease when it is free, expired, or already held by `ownerId` (which extends it).
   * Returns whether `ownerId` holds the lease afterwards.
   */
  async tryAcquire(name: string, ownerId: string, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    const now = this.now();

    try {
      // If a live lease of another owner exists, the filter misses and the upsert's insert
      // collides with that document's _id, so a duplicate key means "held by someone else".
      await this.leases.findOneAndUpdate(
        { _id: name, $or: [{ expires_at: { $lt: now } }, { owner: ownerId }] },
        { $set: { owner: ownerId, expires_at: new Date(now.getTime() + ttlMs) } },
        { upsert: true },
      );
    } catch (error) {
      if (isDuplicateKeyError(error)) {
        return false;
      }
      throw toReadModelError(error, `acquire lease ${name}`);
    }

    this.logger.debug({ lease: name, owner: ownerId, ttlMs }, 'lease acquired');
    return true;
  }

  /**
   * Extends the lease of `ownerId` by `ttlMs` from now. Returns false when another owner has
   * taken it over or it was released, so the caller must stop working.
   */
  async renew(name: string, ownerId: string, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    const now = this.now();

    let matched: boolean;
    try {
      // Renewing an expired lease that no other owner has taken is safe, because the owner never changed.
      const result = await this.leases.updateOne(
        { _id: name, owner: ownerId },
        { $set: { expires_at: new Date(now.getTime() + ttlMs) } },
      );
      matched = result.matchedCount === 1;
    } catch (error) {
      throw toReadModelError(error, `renew lease ${name}`);
    }

    if (!matched) {
      this.logger.warn({ lease: name, owner: ownerId }, 'lease lost before renewal');
    }
    return matched;
  }

  /** Gives the lease up so another instance can take it at once. Returns whether `ownerId` held it. */
  async release(name: string, ownerId: string): Promise<boolean> {
    try {
      const result = await this.leases.deleteOne({ _id: name, owner: ownerId });
      return result.deletedCount === 1;
    } catch (error) {
      throw toReadModelError(error, `release lease ${name}`);
    }
  }

  /** Closes the client when `connect` created it; a shared database stays open. */
  async close(): Promise<void> {
    await this.ownedClient?.close();
  }
}

function assertTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`lease ttlMs must be a positive integer number of milliseconds, got ${ttlMs}`);
  }
}
