import { AlreadyExistsError, InvalidStatusTransitionError, NotFoundError } from '../shared/errors';
import type { Money } from '../shared/money';
import type { Timestamp } from '../shared/timestamps';
import type { OrderEvent } from './orderEvents';
import type { OrderState } from './orderState';
import { allowedMovesFrom, canMove, type OrderStatus } from './orderStatus';

export type CreateOrder = {
  readonly type: 'CreateOrder';
  readonly orderId: number;
  readonly customerId: number;
  readonly totalAmount: Money;
  readonly now: Timestamp;
};

export type ChangeOrderStatus = {
  readonly type: 'ChangeOrderStatus';
  readonly orderId: number;
  readonly status: OrderStatus;
  readonly now: Timestamp;
};

export type OrderCommand = CreateOrder | ChangeOrderStatus;

export function decideOrder(command: OrderCommand, state: OrderState): OrderEvent[] {
  switch (command.type) {
    case 'CreateOrder':
      return create(command, state);
    case 'ChangeOrderStatus':
      return changeStatus(command, state);
    default: {
      const unknownCommand: never = command;
      return unknownCommand;
    }
  }
}

function create(command: CreateOrder, state: OrderState): OrderEvent[] {
  if (state.status !== 'none') throw new AlreadyExistsError(`order ${command.orderId} already exists`);

  const { orderId, customerId, totalAmount, now } = command;

  return [{ type: 'OrderCreated', data: { orderId, customerId, totalAmount, status: 'pending', createdAt: now } }];
}

/** Setting the current status again is a successful no-op: it appends nothing. */
function changeStatus(command: ChangeOrderStatus, state: OrderState): OrderEvent[] {
  if (state.status === 'none') throw new NotFoundError(`order ${command.orderId} not found`);
  if (state.status === command.status) return [];
  if (!canMove(state.status, command.status)) {
    const allowed = allowedMovesFrom(state.status);
    const hint = allowed.length === 0 ? 'it is final' : `allowed: ${allowed.join(', ')}`;
    throw new InvalidStatusTransitionError(
      `order ${command.orderId} cannot move from ${state.status} to ${command.status} (${hint})`,
    );
  }

  const { orderId, status, now } = command;

  return [{ type: 'OrderStatusChanged', data: { orderId, from: state.status, to: status, changedAt: now } }];
}
