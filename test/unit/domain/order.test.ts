import { decideOrder, type OrderCommand } from '../../../src/domain/order/orderCommands';
import type { OrderEvent } from '../../../src/domain/order/orderEvents';
import { evolveOrder, initialOrderState, type OrderState } from '../../../src/domain/order/orderState';
import { ORDER_STATUSES, type OrderStatus } from '../../../src/domain/order/orderStatus';
import { AlreadyExistsError, InvalidStatusTransitionError, NotFoundError } from '../../../src/domain/shared/errors';

const ORDER_ID = 7;
const CREATED_AT = '2026-01-01T10:00:00.000Z';
const CHANGED_AT = '2026-01-02T10:00:00.000Z';
const NOW = '2026-01-03T10:00:00.000Z';

// Written out by hand rather than read from the domain, so the tests check the state machine instead of echoing it.
const ALLOWED_MOVES: ReadonlyArray<readonly [OrderStatus, OrderStatus]> = [
  ['pending', 'processed'],
  ['pending', 'cancelled'],
  ['processed', 'shipped'],
  ['processed', 'cancelled'],
  ['shipped', 'delivered'],
];

const FORBIDDEN_MOVES = ORDER_STATUSES.flatMap((from) =>
  ORDER_STATUSES.filter((to) => to !== from && !isAllowed(from, to)).map((to) => [from, to] as const),
);

const created: OrderEvent = {
  type: 'OrderCreated',
  data: { orderId: ORDER_ID, customerId: 3, totalAmount: { minorUnits: 4250 }, status: 'pending', createdAt: CREATED_AT },
};

function isAllowed(from: OrderStatus, to: OrderStatus): boolean {
  return ALLOWED_MOVES.some(([allowedFrom, allowedTo]) => allowedFrom === from && allowedTo === to);
}

function statusChanged(from: OrderStatus, to: OrderStatus, changedAt = CHANGED_AT): OrderEvent {
  return { type: 'OrderStatusChanged', data: { orderId: ORDER_ID, from, to, changedAt } };
}

/** Builds a history that ends in `status` through allowed moves only. */
function historyReaching(status: OrderStatus): OrderEvent[] {
  const paths: Record<OrderStatus, OrderStatus[]> = {
    pending: ['pending'],
    processed: ['pending', 'processed'],
    shipped: ['pending', 'processed', 'shipped'],
    delivered: ['pending', 'processed', 'shipped', 'delivered'],
    cancelled: ['pending', 'cancelled'],
  };
  const path = paths[status];
  const moves = path.slice(1).map((to, index) => statusChanged(path[index] ?? 'pending', to));
  return [created, ...moves];
}

function given(events: readonly OrderEvent[]): OrderState {
  return events.reduce(evolveOrder, initialOrderState);
}

function when(command: OrderCommand, history: readonly OrderEvent[]): OrderEvent[] {
  return decideOrder(command, given(history));
}

const changeStatus = (status: OrderStatus): OrderCommand => ({ type: 'ChangeOrderStatus', orderId: ORDER_ID, status, now: NOW });

describe('CreateOrder', () => {
  const create: OrderCommand = {
    type: 'CreateOrder',
    orderId: ORDER_ID,
    customerId: 3,
    totalAmount: { minorUnits: 4250 },
    now: CREATED_AT,
  };

  it('creates a pending order', () => {
    expect(when(create, [])).toEqual([created]);
  });

  it('rejects an existing stream', () => {
    expect(() => when(create, [created])).toThrow(AlreadyExistsError);
    expect(() => when(create, [created])).toThrow('order 7 already exists');
  });
});

describe('ChangeOrderStatus', () => {
  it('table covers every move', () => {
    const movesBetweenDistinctStatuses = ORDER_STATUSES.length * (ORDER_STATUSES.length - 1);

    expect(ALLOWED_MOVES.length + FORBIDDEN_MOVES.length).toBe(movesBetweenDistinctStatuses);
  });

  it.each(ORDER_STATUSES)('history reaches %s', (status) => {
    expect(given(historyReaching(status))).toHaveProperty('status', status);
  });

  it.each(ALLOWED_MOVES)('allows %s to %s', (from, to) => {
    expect(when(changeStatus(to), historyReaching(from))).toEqual([statusChanged(from, to, NOW)]);
  });

  it.each(FORBIDDEN_MOVES)('forbids %s to %s', (from, to) => {
    const history = historyReaching(from);

    expect(() => when(changeStatus(to), history)).toThrow(InvalidStatusTransitionError);
    expect(() => when(changeStatus(to), history)).toThrow(`order 7 cannot move from ${from} to ${to}`);
  });

  it('names allowed moves on rejection', () => {
    expect(() => when(changeStatus('delivered'), historyReaching('pending'))).toThrow('(allowed: processed, cancelled)');
  });

  it('rejection names final status', () => {
    expect(() => when(changeStatus('pending'), historyReaching('cancelled'))).toThrow('(it is final)');
  });

  it.each(ORDER_STATUSES)('same status %s appends nothing', (status) => {
    expect(when(changeStatus(status), historyReaching(status))).toEqual([]);
  });

  it('missing order is not found', () => {
    expect(() => when(changeStatus('processed'), [])).toThrow(NotFoundError);
    expect(() => when(changeStatus('processed'), [])).toThrow('order 7 not found');
  });
});

describe('evolveOrder', () => {
  it('OrderCreated creates pending order', () => {
    expect(given([created])).toEqual({
      status: 'pending',
      id: ORDER_ID,
      customerId: 3,
      totalAmount: { minorUnits: 4250 },
      createdAt: CREATED_AT,
      updatedAt: CREATED_AT,
    });
  });

  it('OrderStatusChanged sets status', () => {
    expect(given([created, statusChanged('pending', 'processed')])).toEqual({
      status: 'processed',
      id: ORDER_ID,
      customerId: 3,
      totalAmount: { minorUnits: 4250 },
      createdAt: CREATED_AT,
      updatedAt: CHANGED_AT,
    });
  });

  it('OrderStatusChanged ignores missing order', () => {
    expect(given([statusChanged('pending', 'processed')])).toEqual(initialOrderState);
  });
});
