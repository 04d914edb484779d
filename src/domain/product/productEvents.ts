import type { Money } from '../shared/money';
import type { Timestamp } from '../shared/timestamps';

export type ProductFields = {
  readonly name: string;
  readonly description: string;
  readonly price: Money;
  readonly quantity: number;
  readonly shopId: number;
  readonly categoryId: number;
};

export type ProductCreated = {
  readonly type: 'ProductCreated';
  readonly data: ProductFields & { readonly productId: number; readonly createdAt: Timestamp };
};

/** Carries only the fields that changed. */
export type ProductUpdated = {
  readonly type: 'ProductUpdated';
  readonly data: Partial<ProductFields> & { readonly productId: number; readonly updatedAt: Timestamp };
};

export type ProductDeleted = {
  readonly type: 'ProductDeleted';
  readonly data: { readonly productId: number; readonly deletedAt: Timestamp };
};

export type ProductEvent = ProductCreated | ProductUpdated | ProductDeleted;

export const productStreamName = (productId: number): string => `product-${productId}`;
