import type { ConfirmChannel } from 'amqplib';
import { ORDER_CREATED_ROUTING_KEY, ORDER_STATUS_CHANGED_ROUTING_KEY } from '../../application/outbox/orderMessages';

/** Durable topic exchange that carries every order message. */
export const ORDERS_EXCHANGE = 'orders';
export const NEW_ORDERS_QUEUE = 'new_orders';
export const ORDER_UPDATES_QUEUE = 'order_updates';
export { ORDER_CREATED_ROUTING_KEY, ORDER_STATUS_CHANGED_ROUTING_KEY };

/** Durable queues bound to {@link ORDERS_EXCHANGE}, each with its routing key. */
export const ORDER_QUEUE_BINDINGS: readonly { readonly queue: string; readonly routingKey: string }[] = [
  { queue: NEW_ORDERS_QUEUE, routingKey: ORDER_CREATED_ROUTING_KEY },
  { queue: ORDER_UPDATES_QUEUE, routingKey: ORDER_STATUS_CHANGED_ROUTING_KEY },
];

export async function declareTopology(channel: ConfirmChannel): Promise<void> {
  await channel.assertExchange(ORDERS_EXCHANGE, 'topic', { durable: true });
  for (const { queue, routingKey } of ORDER_QUEUE_BINDINGS) {
    await channel.assertQueue(queue, { durable: true });
    await channel.bindQueue(queue, ORDERS_EXCHANGE, routingKey);
  }
}
