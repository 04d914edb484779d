import type { RecordedEvent } from '../ports/EventStore';
import type { OutgoingMessage } from '../ports/MessagePublisher';

export const ORDER_CREATED_ROUTING_KEY = 'order.created';
export const ORDER_STATUS_CHANGED_ROUTING_KEY = 'order.status_changed';

/**
 * Builds the broker message for an order event, or undefined for events that are not
 * published. Bodies come from the stored event alone, so a replay builds the same message.
 */
export function toOrderMessage(event: RecordedEvent): OutgoingMessage | undefined {
  const correlationId = typeof event.metadata.correlation_id === 'string' ? event.metadata.correlation_id : undefined;
  const occurredAt = typeof event.metadata.occurred_at === 'string' ? Date.parse(event.metadata.occurred_at) : Number.NaN;
  const timestamp = Number.isNaN(occurredAt) ? event.recordedAt.getTime() : occurredAt;
  const common = { messageId: event.id, type: event.type, correlationId, timestamp };

  switch (event.type) {
    case 'OrderCreated': {
      const { order_id, customer_id, total_amount, status, created_at } = event.data;
      return {
        ...common,
        routingKey: ORDER_CREATED_ROUTING_KEY,
        body: { id: order_id, customer_id, total_amount, status, created_at, updated_at: created_at, event_id: event.id },
      };
    }
    case 'OrderStatusChanged': {
      const { order_id, from, to, changed_at } = event.data;
      return {
        ...common,
        routingKey: ORDER_STATUS_CHANGED_ROUTING_KEY,
        body: { order_id, status: to, previous_status: from, updated_at: changed_at, event_id: event.id },
      };
    }
    default:
      return undefined;
  }
}
