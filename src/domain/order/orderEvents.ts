import type { Money } from '../shared/money';
import type { Timestamp } from '../shared/timestamps';
import type { OrderStatus } from './orderStatus';

export type OrderCreated = {
  readonly type: 'OrderCreated';
  readonly data: {
    readonly orderId: number;
    readonly customerId: number;
    readonly totalAmount: Money;
    readonly status: 'pending';
    readonly createdAt: Timestamp;
  };
};

export type OrderStatusChanged = {
  readonly type: 'OrderStatusChanged';
  readonly data: {
    readonly orderId: number;
    readonly from: OrderStatus;
    readonly to: OrderStatus;
    readonly changedAt: Timestamp;
  };
};

export type OrderEvent = OrderCreated | OrderStatusChanged;

export const orderStreamName = (orderId: number): string => `order-${orderId}`;
