import type { DomainEvent } from '../../../src/application/events/eventCodec';
import { projectEvent, projectionTarget } from '../../../src/application/projection/projections';
import type { ViewChange, ViewRecord } from '../../../src/application/ports/ReadModelStore';

const CREATED_AT = '2026-03-01T09:00:00.000Z';
const UPDATED_AT = '2026-03-02T09:00:00.000Z';
const DELETED_AT = '2026-03-03T09:00:00.000Z';
const PASSWORD_HASH = '$2b$10$registeredHashValue';
const NEW_PASSWORD_HASH = '$2b$10$updatedHashValue';

const userRegistered: DomainEvent = {
  type: 'UserRegistered',
  data: { userId: 1, email: 'ann@example.com', username: 'ann', passwordHash: PASSWORD_HASH, registeredAt: CREATED_AT },
};
const productCreated: DomainEvent = {
  type: 'ProductCreated',
  data: {
    productId: 2,
    name: 'Lamp',
    description: 'Desk lamp',
    price: { minorUnits: 1999 },
    quantity: 5,
    shopId: 3,
    categoryId: 4,
    createdAt: CREATED_AT,
  },
};
const orderCreated: DomainEvent = {
  type: 'OrderCreated',
  data: { orderId: 7, customerId: 1, totalAmount: { minorUnits: 4250 }, status: 'pending', createdAt: CREATED_AT },
};

const userRecord: ViewRecord<'users'> = {
  id: 1,
  revision: 0,
  deleted: false,
  view: { id: 1, email: 'ann@example.com', username: 'ann', created_at: CREATED_AT, updated_at: CREATED_AT },
};
const productRecord: ViewRecord<'products'> = {
  id: 2,
  revision: 0,
  deleted: false,
  view: {
    id: 2,
    name: 'Lamp',
    description: 'Desk lamp',
    price: 19.99,
    quantity: 5,
    shop_id: 3,
    category_id: 4,
    created_at: CREATED_AT,
    updated_at: CREATED_AT,
  },
};
const orderRecord: ViewRecord<'orders'> = {
  id: 7,
  revision: 0,
  deleted: false,
  view: { id: 7, customer_id: 1, total_amount: 42.5, status: 'pending', created_at: CREATED_AT, updated_at: CREATED_AT },
};

describe('projectEvent creations', () => {
  it('creates user view', () => {
    expect(projectEvent(userRegistered, 0, undefined)).toEqual<ViewChange>({ collection: 'users', record: userRecord });
  });

  it('creates product view', () => {
    expect(projectEvent(productCreated, 0, undefined)).toEqual<ViewChange>({ collection: 'products', record: productRecord });
  });

  it('creates order view', () => {
    expect(projectEvent(orderCreated, 0, undefined)).toEqual<ViewChange>({ collection: 'orders', record: orderRecord });
  });
});

describe('projectEvent updates', () => {
  it('updates changed user fields', () => {
    const event: DomainEvent = { type: 'UserUpdated', data: { userId: 1, username: 'annie', updatedAt: UPDATED_AT } };

    const change = projectEvent(event, 1, userRecord);

    expect(change).toEqual<ViewChange>({
      collection: 'users',
      record: { ...userRecord, revision: 1, view: { ...userRecord.view, username: 'annie', updated_at: UPDATED_AT } },
    });
  });

  it('updates user email', () => {
    const event: DomainEvent = { type: 'UserUpdated', data: { userId: 1, email: 'anne@example.com', updatedAt: UPDATED_AT } };

    const change = projectEvent(event, 1, userRecord);

    expect(change?.record.view).toEqual({ ...userRecord.view, email: 'anne@example.com', updated_at: UPDATED_AT });
  });

  it('updates changed product fields', () => {
    const event: DomainEvent = {
      type: 'ProductUpdated',
      data: { productId: 2, price: { minorUnits: 2500 }, quantity: 0, updatedAt: UPDATED_AT },
    };

    const change = projectEvent(event, 1, productRecord);

    expect(change).toEqual<ViewChange>({
      collection: 'products',
      record: { ...productRecord, revision: 1, view: { ...productRecord.view, price: 25, quantity: 0, updated_at: UPDATED_AT } },
    });
  });

  it('updates every product field', () => {
    const event: DomainEvent = {
      type: 'ProductUpdated',
      data: {
        productId: 2,
        name: 'Floor lamp',
        description: 'Tall lamp',
        price: { minorUnits: 10 },
        quantity: 9,
        shopId: 30,
        categoryId: 40,
        updatedAt: UPDATED_AT,
      },
    };

    const change = projectEvent(event, 1, productRecord);

    expect(change?.record.view).toEqual({
      id: 2,
      name: 'Floor lamp',
      description: 'Tall lamp',
      price: 0.1,
      quantity: 9,
      shop_id: 30,
      category_id: 40,
      created_at: CREATED_AT,
      updated_at: UPDATED_AT,
    });
  });

  it('changes order status', () => {
    const event: DomainEvent = { type: 'OrderStatusChanged', data: { orderId: 7, from: 'pending', to: 'shipped', changedAt: UPDATED_AT } };

    const change = projectEvent(event, 1, orderRecord);

    expect(change).toEqual<ViewChange>({
      collection: 'orders',
      record: { ...orderRecord, revision: 1, view: { ...orderRecord.view, status: 'shipped', updated_at: UPDATED_AT } },
    });
  });
});

describe('projectEvent deletions', () => {
  it('marks user deleted, keeps view', () => {
    const event: DomainEvent = { type: 'UserDeleted', data: { userId: 1, deletedAt: DELETED_AT } };

    const change = projectEvent(event, 1, userRecord);

    expect(change?.collection).toBe('users');
    expect(change?.record.deleted).toBe(true);
    expect(change?.record.revision).toBe(1);
    expect(change?.record.view).toEqual(userRecord.view);
  });

  it('marks product deleted, keeps view', () => {
    const event: DomainEvent = { type: 'ProductDeleted', data: { productId: 2, deletedAt: DELETED_AT } };

    const change = projectEvent(event, 1, productRecord);

    expect(change?.collection).toBe('products');
    expect(change?.record.deleted).toBe(true);
    expect(change?.record.revision).toBe(1);
    expect(change?.record.view).toEqual(productRecord.view);
  });
});

describe('projectEvent missing document', () => {
  const eventsNeedingDocument: ReadonlyArray<readonly [string, DomainEvent]> = [
    ['UserUpdated', { type: 'UserUpdated', data: { userId: 1, username: 'annie', updatedAt: UPDATED_AT } }],
    ['UserDeleted', { type: 'UserDeleted', data: { userId: 1, deletedAt: DELETED_AT } }],
    ['ProductUpdated', { type: 'ProductUpdated', data: { productId: 2, quantity: 1, updatedAt: UPDATED_AT } }],
    ['ProductDeleted', { type: 'ProductDeleted', data: { productId: 2, deletedAt: DELETED_AT } }],
    [
      'OrderStatusChanged',
      { type: 'OrderStatusChanged', data: { orderId: 7, from: 'pending', to: 'processed', changedAt: UPDATED_AT } },
    ],
  ];

  it.each(eventsNeedingDocument)('skips %s without document', (_type, event) => {
    expect(projectEvent(event, 1, undefined)).toBeUndefined();
  });
});

describe('projectEvent revision guard', () => {
  const cases: ReadonlyArray<readonly [string, DomainEvent, ViewRecord]> = [
    ['UserRegistered', userRegistered, userRecord],
    ['UserUpdated', { type: 'UserUpdated', data: { userId: 1, username: 'annie', updatedAt: UPDATED_AT } }, userRecord],
    ['UserDeleted', { type: 'UserDeleted', data: { userId: 1, deletedAt: DELETED_AT } }, userRecord],
    ['ProductCreated', productCreated, productRecord],
    ['ProductUpdated', { type: 'ProductUpdated', data: { productId: 2, quantity: 1, updatedAt: UPDATED_AT } }, productRecord],
    ['ProductDeleted', { type: 'ProductDeleted', data: { productId: 2, deletedAt: DELETED_AT } }, productRecord],
    ['OrderCreated', orderCreated, orderRecord],
    [
      'OrderStatusChanged',
      { type: 'OrderStatusChanged', data: { orderId: 7, from: 'pending', to: 'processed', changedAt: UPDATED_AT } },
      orderRecord,
    ],
  ];

  it.each(cases)('skips %s at same revision', (_type, event, record) => {
    expect(projectEvent(event, 3, { ...record, revision: 3 })).toBeUndefined();
  });

  it.each(cases)('skips %s at older revision', (_type, event, record) => {
    expect(projectEvent(event, 2, { ...record, revision: 3 })).toBeUndefined();
  });

  it.each(cases)('applies %s at newer revision', (_type, event, record) => {
    expect(projectEvent(event, 4, { ...record, revision: 3 })?.record.revision).toBe(4);
  });

  it('replays a history idempotently', () => {
    const history: ReadonlyArray<readonly [DomainEvent, number]> = [
      [orderCreated, 0],
      [{ type: 'OrderStatusChanged', data: { orderId: 7, from: 'pending', to: 'processed', changedAt: UPDATED_AT } }, 1],
      [{ type: 'OrderStatusChanged', data: { orderId: 7, from: 'processed', to: 'shipped', changedAt: DELETED_AT } }, 2],
    ];
    let current: ViewRecord | undefined;
    for (const [event, revision] of history) current = projectEvent(event, revision, current)?.record ?? current;

    for (const [event, revision] of history) {
      expect(projectEvent(event, revision, current)).toBeUndefined();
    }
    expect(current?.view).toEqual({ ...orderRecord.view, status: 'shipped', updated_at: DELETED_AT });
  });
});

describe('projectEvent password hash', () => {
  function expectNoHash(change: ViewChange | undefined, hash: string): void {
    expect(change).toBeDefined();
    const serialized = JSON.stringify(change);
    expect(serialized).not.toContain(hash);
    expect(serialized).not.toContain('password');
  }

  it('keeps hash out of registration', () => {
    expectNoHash(projectEvent(userRegistered, 0, undefined), PASSWORD_HASH);
  });

  it('keeps hash out of update', () => {
    const event: DomainEvent = { type: 'UserUpdated', data: { userId: 1, passwordHash: NEW_PASSWORD_HASH, updatedAt: UPDATED_AT } };

    const change = projectEvent(event, 1, userRecord);

    expectNoHash(change, NEW_PASSWORD_HASH);
    expect(change?.record.view).toEqual({ ...userRecord.view, updated_at: UPDATED_AT });
  });

  it('keeps hash out of full update', () => {
    const event: DomainEvent = {
      type: 'UserUpdated',
      data: { userId: 1, email: 'anne@example.com', username: 'anne', passwordHash: NEW_PASSWORD_HASH, updatedAt: UPDATED_AT },
    };

    const change = projectEvent(event, 1, userRecord);

    expectNoHash(change, NEW_PASSWORD_HASH);
    expect(Object.keys(change?.record.view ?? {}).sort()).toEqual(['created_at', 'email', 'id', 'updated_at', 'username']);
  });
});

describe('projectionTarget', () => {
  const targets: ReadonlyArray<readonly [DomainEvent, string, number]> = [
    [userRegistered, 'users', 1],
    [{ type: 'UserDeleted', data: { userId: 1, deletedAt: DELETED_AT } }, 'users', 1],
    [productCreated, 'products', 2],
    [{ type: 'ProductUpdated', data: { productId: 2, quantity: 1, updatedAt: UPDATED_AT } }, 'products', 2],
    [orderCreated, 'orders', 7],
    [{ type: 'OrderStatusChanged', data: { orderId: 7, from: 'pending', to: 'cancelled', changedAt: UPDATED_AT } }, 'orders', 7],
  ];

  it.each(targets.map(([event, collection, id]) => [event.type, event, collection, id] as const))('targets %s document', (_type, event, collection, id) => {
    expect(projectionTarget(event)).toEqual({ collection, id });
  });
});
