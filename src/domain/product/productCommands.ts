import { AlreadyExistsError, NotFoundError } from '../shared/errors';
import type { Timestamp } from '../shared/timestamps';
import type { ProductEvent, ProductFields } from './productEvents';
import type { ProductState } from './productState';

export type CreateProduct = ProductFields & {
  readonly type: 'CreateProduct';
  readonly productId: number;
  readonly now: Timestamp;
};

export type UpdateProduct = Partial<ProductFields> & {
  readonly type: 'UpdateProduct';
  readonly productId: number;
  readonly now: Timestamp;
};

export type DeleteProduct = { readonly type: 'DeleteProduct'; readonly productId: number; readonly now: Timestamp };

export type ProductCommand = CreateProduct | UpdateProduct | DeleteProduct;

const PRODUCT_FIELD_NAMES = ['name', 'description', 'price', 'quantity', 'shopId', 'categoryId'] as const;

export function decideProduct(command: ProductCommand, state: ProductState): ProductEvent[] {
  switch (command.type) {
    case 'CreateProduct':
      return create(command, state);
    case 'UpdateProduct':
      return update(command, state);
    case 'DeleteProduct':
      return remove(command, state);
    default: {
      const unknownCommand: never = command;
      return unknownCommand;
    }
  }
}

function create(command: CreateProduct, state: ProductState): ProductEvent[] {
  if (state.status !== 'none') throw new AlreadyExistsError(`product ${command.productId} already exists`);

  const { productId, name, description, price, quantity, shopId, categoryId, now } = command;

  return [{ type: 'ProductCreated', data: { productId, name, description, price, quantity, shopId, categoryId, createdAt: now } }];
}

/** Records only the fields that differ from the current state; an update that changes nothing appends nothing. */
function update(command: UpdateProduct, state: ProductState): ProductEvent[] {
  if (state.status !== 'active') throw new NotFoundError(`product ${command.productId} not found`);

  const changes: Partial<Record<(typeof PRODUCT_FIELD_NAMES)[number], unknown>> = {};
  for (const field of PRODUCT_FIELD_NAMES) {
    const requested = command[field];
    if (requested !== undefined && !sameValue(requested, state[field])) changes[field] = requested;
  }

  if (Object.keys(changes).length === 0) return [];
  return [{ type: 'ProductUpdated', data: { productId: command.productId, ...(changes as Partial<ProductFields>), updatedAt: command.now } }];
}

function remove(command: DeleteProduct, state: ProductState): ProductEvent[] {
  if (state.status !== 'active') throw new NotFoundError(`product ${command.productId} not found`);

  return [{ type: 'ProductDeleted', data: { productId: command.productId, deletedAt: command.now } }];
}

function sameValue(left: unknown, right: unknown): boolean {
  if (typeof left === 'object' && left !== null && typeof right === 'object' && right !== null) {
    return JSON.stringify(left) === JSON.stringify(right);
  }
  return left === right;
}
