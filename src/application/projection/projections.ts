import type { DomainEvent } from '../events/eventCodec';
import { encodeEvent } from '../events/eventCodec';
import type { CollectionName, OrderView, ProductView, UserView, ViewChange, ViewRecord } from '../ports/ReadModelStore';

/** Streams the projector reads: the three aggregate categories and nothing else. */
export const PROJECTED_STREAM_PREFIXES = ['user-', 'product-', 'order-'] as const;

export type ProjectionTarget = { readonly collection: CollectionName; readonly id: number };

/** Returns the read model document an event changes. */
export function projectionTarget(event: DomainEvent): ProjectionTarget {
  switch (event.type) {
    case 'UserRegistered':
    case 'UserUpdated':
    case 'UserDeleted':
      return { collection: 'users', id: event.data.userId };
    case 'ProductCreated':
    case 'ProductUpdated':
    case 'ProductDeleted':
      return { collection: 'products', id: event.data.productId };
    case 'OrderCreated':
    case 'OrderStatusChanged':
      return { collection: 'orders', id: event.data.orderId };
    default: {
      const unknownEvent: never = event;
      return unknownEvent;
    }
  }
}

/**
 * Folds one event into the document it changes. Returns undefined when the document already
 * reflects this revision or a later one, which makes replays harmless. Pure: the same code
 * serves the projector, rebuilds and audits.
 */
export function projectEvent(event: DomainEvent, revision: number, current: ViewRecord | undefined): ViewChange | undefined {
  if (current !== undefined && current.revision >= revision) return undefined;

  const { data } = encodeEvent(event);
  switch (event.type) {
    case 'UserRegistered': {
      const { userId, email, username, registeredAt } = event.data;
      const view: UserView = { id: userId, email, username, created_at: registeredAt, updated_at: registeredAt };
      return { collection: 'users', record: { id: userId, revision, deleted: false, view } };
    }
    case 'UserUpdated': {
      if (current === undefined) return undefined;
      const { email, username, updatedAt } = event.data;
      const previous = current.view as UserView;
      const view: UserView = {
        ...previous,
        email: email ?? previous.email,
        username: username ?? previous.username,
        updated_at: updatedAt,
      };
      return { collection: 'users', record: { ...current, revision, view } };
    }
    case 'UserDeleted':
      return current === undefined ? undefined : { collection: 'users', record: { ...current, revision, deleted: true } as ViewRecord<'users'> };
    case 'ProductCreated': {
      const { product_id, created_at, ...fields } = data as Omit<ProductView, 'id' | 'updated_at'> & { product_id: number };
      const view: ProductView = { id: product_id, ...fields, created_at, updated_at: created_at };
      return { collection: 'products', record: { id: product_id, revision, deleted: false, view } };
    }
    case 'ProductUpdated': {
      if (current === undefined) return undefined;
      const { product_id: _productId, ...changes } = data;
      const view = { ...current.view, ...changes } as ProductView;
      return { collection: 'products', record: { id: current.id, revision, deleted: current.deleted, view } };
    }
    case 'ProductDeleted':
      return current === undefined ? undefined : { collection: 'products', record: { ...current, revision, deleted: true } as ViewRecord<'products'> };
    case 'OrderCreated': {
      const { order_id, customer_id, total_amount, status, created_at } = data as {
        order_id: number;
        customer_id: number;
        total_amount: number;
        status: string;
        created_at: string;
      };
      const view: OrderView = { id: order_id, customer_id, total_amount, status, created_at, updated_at: created_at };
      return { collection: 'orders', record: { id: order_id, revision, deleted: false, view } };
    }
    case 'OrderStatusChanged': {
      if (current === undefined) return undefined;
      const view: OrderView = { ...(current.view as OrderView), status: event.data.to, updated_at: event.data.changedAt };
      return { collection: 'orders', record: { ...current, revision, view } };
    }
    default: {
      const unknownEvent: never = event;
      return unknownEvent;
    }
  }
}
