import type {
  OrderView,
  ProductView,
  ReadModelStore,
  UserView,
  ViewChange,
  ViewRecord,
} from '../../src/application/ports/ReadModelStore';

export type ReadModelStoreUnderTest = {
  readonly store: ReadModelStore;
  /** Closes the store and removes whatever it stored. */
  readonly cleanup: () => Promise<void>;
};

/**
 * Behaviour every ReadModelStore adapter shares. `makeStore` returns an empty store; each test
 * makes its own and cleans it up, so tests do not see each other's documents.
 */
export function describeReadModelStoreContract(
  name: string,
  makeStore: () => Promise<ReadModelStoreUnderTest>,
): void {
  describe(`${name} (ReadModelStore contract)`, () => {
    let store: ReadModelStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      const made = await makeStore();
      store = made.store;
      cleanup = made.cleanup;
    });

    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    it('get returns undefined for a missing id', async () => {
      await expect(store.get('users', 404)).resolves.toBeUndefined();
      await expect(store.get('products', 404)).resolves.toBeUndefined();
      await expect(store.get('orders', 404)).resolves.toBeUndefined();
    });

    it('get returns each collection record as written', async () => {
      const user = userRecord(1, 0);
      const product = productRecord(2, 3);
      const order = orderRecord(3, 1, 1);

      await store.applyChanges(
        [
          { collection: 'users', record: user },
          { collection: 'products', record: product },
          { collection: 'orders', record: order },
        ],
        10n,
      );

      await expect(store.get('users', 1)).resolves.toEqual(user);
      await expect(store.get('products', 2)).resolves.toEqual(product);
      await expect(store.get('orders', 3)).resolves.toEqual(order);
    });

    it('getMany returns stored records by id', async () => {
      const deletedUser = { ...userRecord(2, 1), deleted: true };
      await store.applyChanges(
        [
          { collection: 'users', record: userRecord(1, 0) },
          { collection: 'users', record: deletedUser },
          { collection: 'orders', record: orderRecord(1, 7, 0) },
        ],
        3n,
      );

      const users = await store.getMany('users', [1, 2, 404]);
      expect([...users.keys()].sort()).toEqual([1, 2]);
      expect(users.get(1)).toEqual(userRecord(1, 0));
      expect(users.get(2)).toEqual(deletedUser);

      const orders = await store.getMany('orders', [1]);
      expect(orders.size).toBe(1);
      expect(orders.get(1)).toEqual(orderRecord(1, 7, 0));
    });

    it('getMany handles no ids, missing ids and repeats', async () => {
      await store.applyChanges([{ collection: 'products', record: productRecord(5, 0) }], 1n);

      await expect(store.getMany('products', [])).resolves.toEqual(new Map());
      await expect(store.getMany('products', [404, 405])).resolves.toEqual(new Map());
      await expect(store.getMany('users', [5])).resolves.toEqual(new Map());
      await expect(store.getMany('products', [5, 5])).resolves.toEqual(new Map([[5, productRecord(5, 0)]]));
    });

    it('getMany returns copies', async () => {
      await store.applyChanges([{ collection: 'users', record: userRecord(1, 0) }], 1n);

      const read = (await store.getMany('users', [1])).get(1);
      if (read === undefined) {
        throw new Error('user 1 not found');
      }
      (read.view as { username: string }).username = 'changed by a reader';

      expect((await store.get('users', 1))?.view.username).toBe('user1');
    });

    it('list returns a collection lowest id first', async () => {
      const deleted = { ...orderRecord(2, 1, 1), deleted: true };
      await store.applyChanges(
        [
          { collection: 'orders', record: orderRecord(7, 1, 0) },
          { collection: 'orders', record: deleted },
          { collection: 'users', record: userRecord(1, 0) },
        ],
        10n,
      );

      await expect(store.list('orders')).resolves.toEqual([deleted, orderRecord(7, 1, 0)]);
      await expect(store.list('users')).resolves.toEqual([userRecord(1, 0)]);
      await expect(store.list('products')).resolves.toEqual([]);
    });

    it('collections keep the same id apart', async () => {
      await store.applyChanges(
        [
          { collection: 'users', record: userRecord(1, 0) },
          { collection: 'orders', record: orderRecord(1, 7, 0) },
        ],
        1n,
      );

      await expect(store.get('products', 1)).resolves.toBeUndefined();
      expect((await store.get('users', 1))?.view.username).toBe('user1');
      expect((await store.get('orders', 1))?.view.customer_id).toBe(7);
    });

    it('revision guard applies a newer revision', async () => {
      await store.applyChanges([userChange(1, 0, 'old')], 1n);
      await store.applyChanges([userChange(1, 1, 'new')], 2n);

      const stored = await store.get('users', 1);
      expect(stored?.revision).toBe(1);
      expect(stored?.view.username).toBe('new');
    });

    it('revision guard ignores an equal revision', async () => {
      await store.applyChanges([userChange(1, 2, 'first')], 3n);
      await store.applyChanges([userChange(1, 2, 'second')], 4n);

      const stored = await store.get('users', 1);
      expect(stored?.revision).toBe(2);
      expect(stored?.view.username).toBe('first');
    });

    it('revision guard ignores an older revision', async () => {
      await store.applyChanges([userChange(1, 5, 'newer')], 6n);
      await store.applyChanges([userChange(1, 4, 'older')], 7n);

      const stored = await store.get('users', 1);
      expect(stored?.revision).toBe(5);
      expect(stored?.view.username).toBe('newer');
    });

    it('revision guard keeps the newest within one call', async () => {
      await store.applyChanges(
        [userChange(1, 0, 'zero'), userChange(1, 2, 'two'), userChange(1, 1, 'one')],
        3n,
      );

      const stored = await store.get('users', 1);
      expect(stored?.revision).toBe(2);
      expect(stored?.view.username).toBe('two');
    });

    it('documentExists hint inserts a missing document', async () => {
      await store.applyChanges([{ collection: 'orders', record: orderRecord(5, 1, 2), documentExists: true }], 1n);

      await expect(store.get('orders', 5)).resolves.toEqual(orderRecord(5, 1, 2));
      await expect(store.listOrdersByCustomer(1)).resolves.toEqual([orderView(5, 1)]);
      await expect(store.getCheckpoint()).resolves.toBe(1n);
    });

    it('documentExists hint keeps the revision guard', async () => {
      await store.applyChanges(
        [userChange(1, 0, 'older'), userChange(2, 3, 'newer'), userChange(3, 2, 'equal')],
        1n,
      );

      // Four hinted records, so that stores sending updates in small commands see a command
      // that matches some documents and not others: 1 is applied, 2 and 3 are rejected, 4 is missing.
      await store.applyChanges(
        [
          { ...userChange(1, 1, 'applied'), documentExists: true },
          { ...userChange(2, 2, 'rejected'), documentExists: true },
          { ...userChange(3, 2, 'rejected'), documentExists: true },
          { ...userChange(4, 1, 'inserted'), documentExists: true },
        ],
        2n,
      );

      expect((await store.get('users', 1))?.view.username).toBe('applied');
      expect((await store.get('users', 1))?.revision).toBe(1);
      expect((await store.get('users', 2))?.view.username).toBe('newer');
      expect((await store.get('users', 2))?.revision).toBe(3);
      expect((await store.get('users', 3))?.view.username).toBe('equal');
      expect((await store.get('users', 4))?.view.username).toBe('inserted');
      expect((await store.get('users', 4))?.revision).toBe(1);
    });

    it('documentExists false still updates a stored document', async () => {
      await store.applyChanges([userChange(1, 0, 'old')], 1n);

      await store.applyChanges([{ ...userChange(1, 1, 'new'), documentExists: false }], 2n);

      expect((await store.get('users', 1))?.view.username).toBe('new');
      expect((await store.get('users', 1))?.revision).toBe(1);
    });

    it('replaying the same changes is harmless', async () => {
      const batch: ViewChange[] = [
        userChange(1, 0, 'alice'),
        { collection: 'orders', record: orderRecord(1, 1, 0) },
        { collection: 'orders', record: { ...orderRecord(1, 1, 1), view: { ...orderView(1, 1), status: 'processed' } } },
      ];

      await store.applyChanges(batch, 3n);
      const firstUser = await store.get('users', 1);
      const firstOrder = await store.get('orders', 1);
      await store.applyChanges(batch, 3n);

      await expect(store.get('users', 1)).resolves.toEqual(firstUser);
      await expect(store.get('orders', 1)).resolves.toEqual(firstOrder);
      expect(firstOrder?.view.status).toBe('processed');
      await expect(store.listOrdersByCustomer(1)).resolves.toHaveLength(1);
      await expect(store.getCheckpoint()).resolves.toBe(3n);
    });

    it('deleted records stay with deleted true', async () => {
      await store.applyChanges([userChange(1, 0, 'alice')], 1n);
      await store.applyChanges([{ collection: 'users', record: { ...userRecord(1, 1), deleted: true } }], 2n);

      const stored = await store.get('users', 1);
      expect(stored).toBeDefined();
      expect(stored?.deleted).toBe(true);
      expect(stored?.revision).toBe(1);
      expect(stored?.view.id).toBe(1);
    });

    it('listOrdersByCustomer lists oldest first', async () => {
      await store.applyChanges(
        [
          { collection: 'orders', record: orderRecord(30, 5, 0) },
          { collection: 'orders', record: orderRecord(4, 5, 0) },
          { collection: 'orders', record: orderRecord(17, 5, 0) },
        ],
        3n,
      );

      const orders = await store.listOrdersByCustomer(5);

      expect(orders.map((order) => order.id)).toEqual([4, 17, 30]);
      expect(orders[0]).toEqual(orderView(4, 5));
    });

    it('listOrdersByCustomer lists only that customer', async () => {
      await store.applyChanges(
        [
          { collection: 'orders', record: orderRecord(1, 5, 0) },
          { collection: 'orders', record: orderRecord(2, 6, 0) },
          { collection: 'orders', record: orderRecord(3, 5, 0) },
        ],
        3n,
      );

      await expect(store.listOrdersByCustomer(5)).resolves.toEqual([orderView(1, 5), orderView(3, 5)]);
      await expect(store.listOrdersByCustomer(6)).resolves.toEqual([orderView(2, 6)]);
      await expect(store.listOrdersByCustomer(7)).resolves.toEqual([]);
    });

    it('listOrdersByCustomer includes deleted orders', async () => {
      await store.applyChanges([{ collection: 'orders', record: { ...orderRecord(1, 5, 0), deleted: true } }], 1n);

      await expect(store.listOrdersByCustomer(5)).resolves.toEqual([orderView(1, 5)]);
    });

    it('listOrdersByCustomer shows the latest status', async () => {
      await store.applyChanges([{ collection: 'orders', record: orderRecord(1, 5, 0) }], 1n);
      await store.applyChanges(
        [{ collection: 'orders', record: { ...orderRecord(1, 5, 1), view: { ...orderView(1, 5), status: 'shipped' } } }],
        2n,
      );

      const orders = await store.listOrdersByCustomer(5);
      expect(orders).toHaveLength(1);
      expect(orders[0]?.status).toBe('shipped');
    });

    it('checkpoint is undefined initially', async () => {
      await expect(store.getCheckpoint()).resolves.toBeUndefined();
    });

    it('checkpoint is stored by applyChanges', async () => {
      await store.applyChanges([userChange(1, 0, 'alice')], 41n);

      await expect(store.getCheckpoint()).resolves.toBe(41n);
    });

    it('checkpoint is stored for an empty batch', async () => {
      await store.applyChanges([], 7n);

      await expect(store.getCheckpoint()).resolves.toBe(7n);
    });

    it('checkpoint never moves backwards', async () => {
      await store.applyChanges([], 100n);
      await store.applyChanges([], 99n);
      await expect(store.getCheckpoint()).resolves.toBe(100n);

      // A shorter decimal string must still compare as a smaller number.
      await store.applyChanges([], 9n);
      await expect(store.getCheckpoint()).resolves.toBe(100n);

      await store.applyChanges([], 101n);
      await expect(store.getCheckpoint()).resolves.toBe(101n);
    });

    it('checkpoint keeps 64-bit positions exact', async () => {
      const position = 18_446_744_073_709_551_615n;

      await store.applyChanges([], 9_007_199_254_740_993n);
      await expect(store.getCheckpoint()).resolves.toBe(9_007_199_254_740_993n);

      await store.applyChanges([], position);
      await expect(store.getCheckpoint()).resolves.toBe(position);
    });

    it('clear removes documents and checkpoint', async () => {
      await store.applyChanges(
        [userChange(1, 0, 'alice'), { collection: 'orders', record: orderRecord(1, 1, 0) }],
        5n,
      );

      await store.clear();

      await expect(store.get('users', 1)).resolves.toBeUndefined();
      await expect(store.get('orders', 1)).resolves.toBeUndefined();
      await expect(store.listOrdersByCustomer(1)).resolves.toEqual([]);
      await expect(store.getCheckpoint()).resolves.toBeUndefined();
    });

    it('clear allows a rebuild from revision 0', async () => {
      await store.applyChanges([userChange(1, 3, 'before')], 5n);
      await store.clear();

      await store.applyChanges([userChange(1, 0, 'after')], 1n);

      expect((await store.get('users', 1))?.view.username).toBe('after');
      await expect(store.getCheckpoint()).resolves.toBe(1n);
    });

    it('returned objects are copies', async () => {
      const written = userRecord(1, 0);
      await store.applyChanges([{ collection: 'users', record: written }], 1n);
      await store.applyChanges([{ collection: 'orders', record: orderRecord(1, 1, 0) }], 2n);

      (written.view as { username: string }).username = 'changed by the writer';
      const read = await store.get('users', 1);
      if (read === undefined) {
        throw new Error('user 1 not found');
      }
      (read.view as { username: string }).username = 'changed by a reader';
      (read as { revision: number }).revision = 99;
      const listed = await store.listOrdersByCustomer(1);
      (listed[0] as { status: string }).status = 'changed by a reader';
      listed.pop();

      const again = await store.get('users', 1);
      expect(again?.view.username).toBe('user1');
      expect(again?.revision).toBe(0);
      const listedAgain = await store.listOrdersByCustomer(1);
      expect(listedAgain).toHaveLength(1);
      expect(listedAgain[0]?.status).toBe('pending');
    });

    it('concurrent applyChanges list 200 orders', async () => {
      const customerId = 42;
      const orderCount = 200;
      const callCount = 8;
      const batches: ViewChange[][] = Array.from({ length: callCount }, () => []);
      for (let id = 1; id <= orderCount; id += 1) {
        batches[id % callCount]?.push({ collection: 'orders', record: orderRecord(id, customerId, 0) });
      }
      // Another customer's orders in the same calls must not leak into the listing.
      batches[0]?.push({ collection: 'orders', record: orderRecord(orderCount + 1, customerId + 1, 0) });

      await Promise.all(batches.map((batch, index) => store.applyChanges(batch, BigInt(index + 1))));

      const orders = await store.listOrdersByCustomer(customerId);
      expect(orders).toHaveLength(orderCount);
      expect(orders.map((order) => order.id)).toEqual(Array.from({ length: orderCount }, (_, i) => i + 1));
      await expect(store.getCheckpoint()).resolves.toBe(BigInt(callCount));
    });
  });
}

function userView(id: number, username = `user${id}`): UserView {
  return {
    id,
    email: `${username}@example.com`,
    username,
    created_at: '2024-01-01T00:00:00.000Z',
    updated_at: '2024-01-01T00:00:00.000Z',
  };
}

function userRecord(id: number, revision: number, username?: string): ViewRecord<'users'> {
  return { id, revision, deleted: false, view: userView(id, username) };
}

function userChange(id: number, revision: number, username: string): ViewChange {
  return { collection: 'users', record: userRecord(id, revision, username) };
}

function productRecord(id: number, revision: number): ViewRecord<'products'> {
  const view: ProductView = {
    id,
    name: `product ${id}`,
    description: 'a product',
    price: 19.99,
    quantity: 3,
    shop_id: 1,
    category_id: 2,
    created_at: '2024-01-02T00:00:00.000Z',
    updated_at: '2024-01-03T00:00:00.000Z',
  };
  return { id, revision, deleted: false, view };
}

function orderView(id: number, customerId: number): OrderView {
  return {
    id,
    customer_id: customerId,
    total_amount: 10.5,
    status: 'pending',
    created_at: '2024-01-04T00:00:00.000Z',
    updated_at: '2024-01-04T00:00:00.000Z',
  };
}

function orderRecord(id: number, customerId: number, revision: number): ViewRecord<'orders'> {
  return { id, revision, deleted: false, view: orderView(id, customerId) };
}
