import { NotFoundError } from '../../domain/shared/errors';
import type { CollectionName, OrderView, ReadModelStore, ViewRecord } from '../ports/ReadModelStore';

const RESOURCE_NAMES: Readonly<Record<CollectionName, string>> = { users: 'user', products: 'product', orders: 'order' };

/** Serves queries from the read models only, never from the event store. */
export class QueryService {
  constructor(private readonly readModels: ReadModelStore) {}

  /** Returns a live resource; a missing or deleted one is a `NotFoundError`. */
  async get<C extends CollectionName>(collection: C, id: number): Promise<ViewRecord<C>> {
    const record = await this.readModels.get(collection, id);
    if (record === undefined || record.deleted) throw new NotFoundError(`${RESOURCE_NAMES[collection]} ${id} not found`);
    return record;
  }

  /** Lists a customer's orders oldest first, also for a deleted customer; 404 only for an id that never was a user. */
  async listOrdersOfCustomer(customerId: number): Promise<OrderView[]> {
    const customer = await this.readModels.get('users', customerId);
    if (customer === undefined) throw new NotFoundError(`user ${customerId} not found`);
    return this.readModels.listOrdersByCustomer(customerId);
  }
}
