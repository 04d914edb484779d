/**
 * Named leases with an expiry, so that only one instance runs a given worker (the projector,
 * the outbox relay) at a time. A lease is not a fence: a paused holder may still write once
 * after losing it, which the read model revision guard and message ids make harmless.
 */
export interface LeaseStore {
  /** Takes the lease when it is free, expired or already ours; returns whether we hold it now. */
  tryAcquire(name: string, ownerId: string, ttlMs: number): Promise<boolean>;
  /** Extends our lease; returns false when another owner took it over. */
  renew(name: string, ownerId: string, ttlMs: number): Promise<boolean>;
  /** Gives our lease up so another instance can take it at once. */
  release(name: string, ownerId: string): Promise<boolean>;
}
