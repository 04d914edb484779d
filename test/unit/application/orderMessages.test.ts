import {
  ORDER_CREATED_ROUTING_KEY,
  ORDER_STATUS_CHANGED_ROUTING_KEY,
  toOrderMessage,
} from '../../../src/application/outbox/orderMessages';
import type { JsonObject, RecordedEvent } from '../../../src/application/ports/EventStore';

const EVENT_ID = '6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f';
const CORRELATION_ID = 'request-42';
const OCCURRED_AT = '2026-03-01T09:30:00.123Z';
const RECORDED_AT = new Date('2026-03-01T09:30:01.000Z');
const CREATED_AT = '2026-03-01T09:30:00.000Z';
const CHANGED_AT = '2026-03-02T10:00:00.000Z';

function recorded(type: string, data: JsonObject, metadata: JsonObject = defaultMetadata()): RecordedEvent {
  return { id: EVENT_ID, streamId: 'order-7', type, revision: 1n, position: 12n, data, metadata, recordedAt: RECORDED_AT };
}

function defaultMetadata(): JsonObject {
  return { correlation_id: CORRELATION_ID, causation_id: 'command-1', occurred_at: OCCURRED_AT };
}

const orderCreated = recorded('OrderCreated', {
  order_id: 7,
  customer_id: 1,
  total_amount: 42.5,
  status: 'pending',
  created_at: CREATED_AT,
});
const statusChanged = recorded('OrderStatusChanged', { order_id: 7, from: 'pending', to: 'processed', changed_at: CHANGED_AT });

describe('toOrderMessage OrderCreated', () => {
  const message = toOrderMessage(orderCreated);

  it('routes to order.created', () => {
    expect(ORDER_CREATED_ROUTING_KEY).toBe('order.created');
    expect(message?.routingKey).toBe('order.created');
  });

  it('copies event identity', () => {
    expect(message?.messageId).toBe(EVENT_ID);
    expect(message?.type).toBe('OrderCreated');
    expect(message?.correlationId).toBe(CORRELATION_ID);
  });

  it('stamps occurred_at in ms', () => {
    expect(message?.timestamp).toBe(Date.parse(OCCURRED_AT));
    expect(message?.timestamp).toBe(1772357400123);
  });

  it('sends order as GET returns it', () => {
    expect(message?.body).toStrictEqual({
      id: 7,
      customer_id: 1,
      total_amount: 42.5,
      status: 'pending',
      created_at: CREATED_AT,
      updated_at: CREATED_AT,
      event_id: EVENT_ID,
    });
  });
});

describe('toOrderMessage OrderStatusChanged', () => {
  const message = toOrderMessage(statusChanged);

  it('routes to order.status_changed', () => {
    expect(ORDER_STATUS_CHANGED_ROUTING_KEY).toBe('order.status_changed');
    expect(message?.routingKey).toBe('order.status_changed');
  });

  it('copies event identity', () => {
    expect(message?.messageId).toBe(EVENT_ID);
    expect(message?.type).toBe('OrderStatusChanged');
    expect(message?.correlationId).toBe(CORRELATION_ID);
  });

  it('stamps occurred_at in ms', () => {
    expect(message?.timestamp).toBe(Date.parse(OCCURRED_AT));
  });

  it('sends status change body', () => {
    expect(message?.body).toStrictEqual({
      order_id: 7,
      status: 'processed',
      previous_status: 'pending',
      updated_at: CHANGED_AT,
      event_id: EVENT_ID,
    });
  });
});

describe('toOrderMessage metadata gaps', () => {
  it('falls back to recordedAt', () => {
    const message = toOrderMessage(recorded('OrderCreated', orderCreated.data, { correlation_id: CORRELATION_ID }));

    expect(message?.timestamp).toBe(RECORDED_AT.getTime());
  });

  it('ignores unparseable occurred_at', () => {
    const message = toOrderMessage(recorded('OrderStatusChanged', statusChanged.data, { occurred_at: 'yesterday' }));

    expect(message?.timestamp).toBe(RECORDED_AT.getTime());
  });

  it('omits non-string correlation id', () => {
    const message = toOrderMessage(recorded('OrderCreated', orderCreated.data, { correlation_id: 42, occurred_at: OCCURRED_AT }));

    expect(message).toBeDefined();
    expect(message?.correlationId).toBeUndefined();
  });

  it('builds same message on replay', () => {
    const replayed: RecordedEvent = { ...statusChanged, position: 99n, recordedAt: new Date('2026-04-01T00:00:00.000Z') };

    expect(toOrderMessage(replayed)).toStrictEqual(toOrderMessage(statusChanged));
  });
});

describe('toOrderMessage other events', () => {
  it.each([
    ['UserRegistered', { user_id: 1, email: 'ann@example.com', username: 'ann', password_hash: 'hash', registered_at: CREATED_AT }],
    ['UserUpdated', { user_id: 1, username: 'annie', updated_at: CHANGED_AT }],
    ['UserDeleted', { user_id: 1, deleted_at: CHANGED_AT }],
    ['ProductCreated', { product_id: 2, name: 'Lamp', price: 19.99, created_at: CREATED_AT }],
    ['ProductUpdated', { product_id: 2, quantity: 0, updated_at: CHANGED_AT }],
    ['ProductDeleted', { product_id: 2, deleted_at: CHANGED_AT }],
    ['UniqueValueReserved', { field: 'email', user_id: 1, reserved_at: CREATED_AT }],
    ['SomethingNew', {}],
  ])('skips %s', (type, data) => {
    expect(toOrderMessage(recorded(type, data))).toBeUndefined();
  });
});
