import { decideProduct, type ProductCommand } from '../../../src/domain/product/productCommands';
import type { ProductEvent, ProductFields } from '../../../src/domain/product/productEvents';
import { evolveProduct, initialProductState, type ProductState } from '../../../src/domain/product/productState';
import { AlreadyExistsError, NotFoundError } from '../../../src/domain/shared/errors';
import { parseMoney, type Money } from '../../../src/domain/shared/money';

const PRODUCT_ID = 5;
const CREATED_AT = '2026-01-01T10:00:00.000Z';
const UPDATED_AT = '2026-01-02T10:00:00.000Z';
const NOW = '2026-01-03T10:00:00.000Z';

function money(value: number): Money {
  const result = parseMoney(value);
  if (!result.ok) throw new Error(`test amount ${value} is invalid: ${result.reason}`);
  return result.money;
}

const fields: ProductFields = {
  name: 'Kettle',
  description: 'Steel, 1.7 l',
  price: money(19.99),
  quantity: 10,
  shopId: 2,
  categoryId: 3,
};

const created: ProductEvent = { type: 'ProductCreated', data: { productId: PRODUCT_ID, ...fields, createdAt: CREATED_AT } };
const deleted: ProductEvent = { type: 'ProductDeleted', data: { productId: PRODUCT_ID, deletedAt: UPDATED_AT } };

function given(events: readonly ProductEvent[]): ProductState {
  return events.reduce(evolveProduct, initialProductState);
}

function when(command: ProductCommand, history: readonly ProductEvent[]): ProductEvent[] {
  return decideProduct(command, given(history));
}

describe('CreateProduct', () => {
  const create: ProductCommand = { type: 'CreateProduct', productId: PRODUCT_ID, ...fields, now: CREATED_AT };

  it('creates on empty stream', () => {
    expect(when(create, [])).toEqual([created]);
  });

  it('rejects an existing stream', () => {
    expect(() => when(create, [created])).toThrow(AlreadyExistsError);
    expect(() => when(create, [created])).toThrow('product 5 already exists');
  });

  it('rejects a deleted product stream', () => {
    expect(() => when(create, [created, deleted])).toThrow(AlreadyExistsError);
  });
});

describe('UpdateProduct', () => {
  const update = (changes: Partial<ProductFields>): ProductCommand => ({
    type: 'UpdateProduct',
    productId: PRODUCT_ID,
    ...changes,
    now: NOW,
  });

  it('records only changed fields', () => {
    const events = when(update({ name: 'Kettle', quantity: 7, description: 'Steel, 1.7 l' }), [created]);

    expect(events).toEqual([{ type: 'ProductUpdated', data: { productId: PRODUCT_ID, quantity: 7, updatedAt: NOW } }]);
    expect(events[0]?.data).not.toHaveProperty('name');
    expect(events[0]?.data).not.toHaveProperty('description');
  });

  it('records every changed field', () => {
    const changes: ProductFields = {
      name: 'Teapot',
      description: 'Glass',
      price: money(5),
      quantity: 0,
      shopId: 4,
      categoryId: 6,
    };

    expect(when(update(changes), [created])).toEqual([
      { type: 'ProductUpdated', data: { productId: PRODUCT_ID, ...changes, updatedAt: NOW } },
    ]);
  });

  it('identical values return no events', () => {
    expect(when(update(fields), [created])).toEqual([]);
  });

  it('equal price by minor units', () => {
    // A distinct object with the same minor units is the same amount.
    expect(when(update({ price: { minorUnits: 1999 } }), [created])).toEqual([]);
    expect(when(update({ price: money(19.99) }), [created])).toEqual([]);
  });

  it('records a changed price', () => {
    const events = when(update({ price: money(19.98) }), [created]);

    expect(events).toEqual([
      { type: 'ProductUpdated', data: { productId: PRODUCT_ID, price: { minorUnits: 1998 }, updatedAt: NOW } },
    ]);
  });

  it('compares with the latest values', () => {
    const repriced: ProductEvent = {
      type: 'ProductUpdated',
      data: { productId: PRODUCT_ID, price: money(25), updatedAt: UPDATED_AT },
    };

    expect(when(update({ price: money(25) }), [created, repriced])).toEqual([]);
    expect(when(update({ price: money(19.99) }), [created, repriced])).toEqual([
      { type: 'ProductUpdated', data: { productId: PRODUCT_ID, price: { minorUnits: 1999 }, updatedAt: NOW } },
    ]);
  });

  it('missing product is not found', () => {
    expect(() => when(update({ quantity: 1 }), [])).toThrow(NotFoundError);
    expect(() => when(update({ quantity: 1 }), [])).toThrow('product 5 not found');
  });

  it('deleted product is not found', () => {
    expect(() => when(update({ quantity: 1 }), [created, deleted])).toThrow(NotFoundError);
    expect(() => when(update({ quantity: 1 }), [created, deleted])).toThrow('product 5 not found');
  });
});

describe('DeleteProduct', () => {
  const remove: ProductCommand = { type: 'DeleteProduct', productId: PRODUCT_ID, now: NOW };

  it('deletes an active product', () => {
    expect(when(remove, [created])).toEqual([{ type: 'ProductDeleted', data: { productId: PRODUCT_ID, deletedAt: NOW } }]);
  });

  it('missing product is not found', () => {
    expect(() => when(remove, [])).toThrow(NotFoundError);
    expect(() => when(remove, [])).toThrow('product 5 not found');
  });

  it('deleted product is not found', () => {
    expect(() => when(remove, [created, deleted])).toThrow(NotFoundError);
    expect(() => when(remove, [created, deleted])).toThrow('product 5 not found');
  });
});

describe('evolveProduct', () => {
  it('ProductCreated creates active product', () => {
    expect(given([created])).toEqual({
      status: 'active',
      id: PRODUCT_ID,
      ...fields,
      createdAt: CREATED_AT,
      updatedAt: CREATED_AT,
    });
  });

  it('ProductUpdated applies carried fields', () => {
    const updated: ProductEvent = {
      type: 'ProductUpdated',
      data: { productId: PRODUCT_ID, price: money(0.5), quantity: 0, updatedAt: UPDATED_AT },
    };

    expect(given([created, updated])).toEqual({
      status: 'active',
      id: PRODUCT_ID,
      ...fields,
      price: { minorUnits: 50 },
      quantity: 0,
      createdAt: CREATED_AT,
      updatedAt: UPDATED_AT,
    });
  });

  it('ProductUpdated skips undefined fields', () => {
    const updated: ProductEvent = {
      type: 'ProductUpdated',
      data: { productId: PRODUCT_ID, name: undefined, updatedAt: UPDATED_AT },
    };
    const state = given([created, updated]);

    expect(state).toHaveProperty('name', 'Kettle');
    expect(state).toHaveProperty('updatedAt', UPDATED_AT);
  });

  it('ProductDeleted keeps id only', () => {
    expect(given([created, deleted])).toEqual({ status: 'deleted', id: PRODUCT_ID });
  });

  it('ProductUpdated ignores deleted product', () => {
    const updated: ProductEvent = { type: 'ProductUpdated', data: { productId: PRODUCT_ID, quantity: 1, updatedAt: NOW } };

    expect(given([created, deleted, updated])).toEqual({ status: 'deleted', id: PRODUCT_ID });
  });

  it('ProductDeleted ignores missing product', () => {
    expect(given([deleted])).toEqual(initialProductState);
  });
});
