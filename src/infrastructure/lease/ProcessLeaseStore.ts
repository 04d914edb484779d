import type { LeaseStore } from '../../application/ports/LeaseStore';

/**
 * Leases that exist only inside this process, for the embedded setup: the SQLite store and the
 * in-memory read models serve one process, so there is no other instance to exclude.
 */
export class ProcessLeaseStore implements LeaseStore {
  private readonly owners = new Map<string, string>();

  tryAcquire(name: string, ownerId: string): Promise<boolean> {
    const owner = this.owners.get(name);
    if (owner === undefined) this.owners.set(name, ownerId);
    return Promise.resolve(owner === undefined || owner === ownerId);
  }

  renew(name: string, ownerId: string): Promise<boolean> {
    return Promise.resolve(this.owners.get(name) === ownerId);
  }

  release(name: string, ownerId: string): Promise<boolean> {
    const held = this.owners.get(name) === ownerId;
    if (held) this.owners.delete(name);
    return Promise.resolve(held);
  }
}
