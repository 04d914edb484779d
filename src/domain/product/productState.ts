import type { Timestamp } from '../shared/timestamps';
import type { ProductEvent, ProductFields } from './productEvents';

export type ActiveProduct = ProductFields & {
  readonly status: 'active';
  readonly id: number;
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
};

export type ProductState = { readonly status: 'none' } | ActiveProduct | { readonly status: 'deleted'; readonly id: number };

export const initialProductState: ProductState = { status: 'none' };

export function evolveProduct(state: ProductState, event: ProductEvent): ProductState {
  switch (event.type) {
    case 'ProductCreated': {
      const { productId, createdAt, ...fields } = event.data;
      return { status: 'active', id: productId, ...fields, createdAt, updatedAt: createdAt };
    }
    case 'ProductUpdated': {
      if (state.status !== 'active') return state;
      const { productId: _productId, ...changes } = event.data;
      return { ...state, ...definedOnly(changes) };
    }
    case 'ProductDeleted':
      return state.status === 'active' ? { status: 'deleted', id: state.id } : state;
    default: {
      const unknownEvent: never = event;
      return unknownEvent;
    }
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
