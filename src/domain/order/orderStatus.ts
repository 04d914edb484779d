export const ORDER_STATUSES = ['pending', 'processed', 'shipped', 'delivered', 'cancelled'] as const;

export type OrderStatus = (typeof ORDER_STATUSES)[number];

const ALLOWED_MOVES: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['processed', 'cancelled'],
  processed: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

export const allowedMovesFrom = (status: OrderStatus): readonly OrderStatus[] => ALLOWED_MOVES[status];

export const canMove = (from: OrderStatus, to: OrderStatus): boolean => ALLOWED_MOVES[from].includes(to);
