import type { Money } from '../shared/money';
import type { Timestamp } from '../shared/timestamps';
import type { OrderEvent } from './orderEvents';
import type { OrderStatus } from './orderStatus';

export type ExistingOrder = {
  readonly status: OrderStatus;
  readonly id: number;
  readonly customerId: number;
  readonly totalAmount: Money;
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
};

export type OrderState = { readonly status: 'none' } | ExistingOrder;

export const initialOrderState: OrderState = { status: 'none' };

export function evolveOrder(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderCreated': {
      const { orderId, customerId, totalAmount, status, createdAt } = event.data;
      return { status, id: orderId, customerId, totalAmount, createdAt, updatedAt: createdAt };
    }
    case 'OrderStatusChanged':
      return state.status === 'none' ? state : { ...state, status: event.data.to, updatedAt: event.data.changedAt };
    default: {
      const unknownEvent: never = event;
      return unknownEvent;
    }
  }
}
