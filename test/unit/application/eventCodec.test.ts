import { decodeEvent, encodeEvent, type DomainEvent } from '../../../src/application/events/eventCodec';

const AT = '2026-03-01T09:30:00.000Z';

/** One event of every domain type, with every optional field set. */
const EVENTS: readonly DomainEvent[] = [
  {
    type: 'UserRegistered',
    data: { userId: 1, email: 'ann@example.com', username: 'ann', passwordHash: '$2b$10$hash', registeredAt: AT },
  },
  {
    type: 'UserUpdated',
    data: { userId: 1, email: 'anne@example.com', username: 'anne', passwordHash: '$2b$10$other', updatedAt: AT },
  },
  { type: 'UserDeleted', data: { userId: 1, deletedAt: AT } },
  {
    type: 'ProductCreated',
    data: {
      productId: 2,
      name: 'Lamp',
      description: 'Desk lamp',
      price: { minorUnits: 1999 },
      quantity: 5,
      shopId: 3,
      categoryId: 4,
      createdAt: AT,
    },
  },
  {
    type: 'ProductUpdated',
    data: {
      productId: 2,
      name: 'Floor lamp',
      description: 'Tall lamp',
      price: { minorUnits: 4500 },
      quantity: 0,
      shopId: 5,
      categoryId: 6,
      updatedAt: AT,
    },
  },
  { type: 'ProductDeleted', data: { productId: 2, deletedAt: AT } },
  {
    type: 'OrderCreated',
    data: { orderId: 7, customerId: 1, totalAmount: { minorUnits: 4250 }, status: 'pending', createdAt: AT },
  },
  { type: 'OrderStatusChanged', data: { orderId: 7, from: 'pending', to: 'processed', changedAt: AT } },
];

/** The stored form of each event in EVENTS, written out by hand so the test does not echo the codec. */
const WIRE: Readonly<Record<DomainEvent['type'], Record<string, unknown>>> = {
  UserRegistered: { user_id: 1, email: 'ann@example.com', username: 'ann', password_hash: '$2b$10$hash', registered_at: AT },
  UserUpdated: { user_id: 1, email: 'anne@example.com', username: 'anne', password_hash: '$2b$10$other', updated_at: AT },
  UserDeleted: { user_id: 1, deleted_at: AT },
  ProductCreated: {
    product_id: 2,
    name: 'Lamp',
    description: 'Desk lamp',
    price: 19.99,
    quantity: 5,
    shop_id: 3,
    category_id: 4,
    created_at: AT,
  },
  ProductUpdated: {
    product_id: 2,
    name: 'Floor lamp',
    description: 'Tall lamp',
    price: 45,
    quantity: 0,
    shop_id: 5,
    category_id: 6,
    updated_at: AT,
  },
  ProductDeleted: { product_id: 2, deleted_at: AT },
  OrderCreated: { order_id: 7, customer_id: 1, total_amount: 42.5, status: 'pending', created_at: AT },
  OrderStatusChanged: { order_id: 7, from: 'pending', to: 'processed', changed_at: AT },
};

function eventOfType(type: DomainEvent['type']): DomainEvent {
  const event = EVENTS.find((candidate) => candidate.type === type);
  if (event === undefined) throw new Error(`EVENTS has no ${type}`);
  return event;
}

describe('encodeEvent', () => {
  it.each(EVENTS.map((event) => [event.type, event] as const))('encodes %s with snake_case keys', (type, event) => {
    const encoded = encodeEvent(event);

    expect(encoded.type).toBe(type);
    expect(encoded.data).toEqual(WIRE[type]);
  });

  it('writes money as decimal numbers', () => {
    expect(encodeEvent(eventOfType('ProductCreated')).data.price).toBe(19.99);
    expect(encodeEvent(eventOfType('ProductUpdated')).data.price).toBe(45);
    expect(encodeEvent(eventOfType('OrderCreated')).data.total_amount).toBe(42.5);
  });

  it('writes cents without float error', () => {
    const event: DomainEvent = { type: 'ProductUpdated', data: { productId: 2, price: { minorUnits: 30 }, updatedAt: AT } };

    expect(encodeEvent(event).data.price).toBe(0.3);
  });

  it('leaves out undefined fields', () => {
    const event: DomainEvent = { type: 'UserUpdated', data: { userId: 1, email: undefined, username: 'bob', updatedAt: AT } };

    const { data } = encodeEvent(event);

    expect(Object.keys(data)).toEqual(['user_id', 'username', 'updated_at']);
  });

  it('produces JSON-safe data', () => {
    for (const event of EVENTS) {
      const { data } = encodeEvent(event);
      expect(JSON.parse(JSON.stringify(data))).toEqual(data);
    }
  });
});

describe('decodeEvent', () => {
  it.each(EVENTS.map((event) => [event.type, event] as const))('round-trips %s', (type, event) => {
    const { data } = encodeEvent(event);

    expect(decodeEvent(type, data)).toEqual(event);
  });

  it.each(EVENTS.map((event) => [event.type, event] as const))('decodes stored %s', (type, event) => {
    expect(decodeEvent(type, WIRE[type])).toEqual(event);
  });

  it('reads money as minor units', () => {
    const decoded = decodeEvent('ProductCreated', { ...WIRE.ProductCreated, price: 19.99 });

    expect(decoded).toMatchObject({ type: 'ProductCreated', data: { price: { minorUnits: 1999 } } });
  });

  it('reads total_amount as minor units', () => {
    const decoded = decodeEvent('OrderCreated', { ...WIRE.OrderCreated, total_amount: 0.1 });

    expect(decoded).toMatchObject({ type: 'OrderCreated', data: { totalAmount: { minorUnits: 10 } } });
  });

  it.each(['UniqueValueReserved', 'IdAllocated', 'SomethingNew', ''])('ignores unknown type %j', (type) => {
    expect(decodeEvent(type, { user_id: 1 })).toBeUndefined();
  });

  it.each([
    ['a string', '19.99'],
    ['three decimals', 19.999],
    ['a negative amount', -1],
    ['null', null],
  ])('rejects stored price as %s', (_case, price) => {
    const decode = (): unknown => decodeEvent('ProductCreated', { ...WIRE.ProductCreated, price });

    expect(decode).toThrow('ProductCreated');
    expect(decode).toThrow('invalid price');
  });

  it('rejects total_amount in domain form', () => {
    const decode = (): unknown => decodeEvent('OrderCreated', { ...WIRE.OrderCreated, total_amount: { minorUnits: 4250 } });

    expect(decode).toThrow('OrderCreated');
    expect(decode).toThrow('invalid total_amount');
  });
});
