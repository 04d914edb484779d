// Conversion between the port's events and rows of the events table. Event data is stored as JSON
// text, so this is also where values that JSON cannot represent are rejected.
import type { JsonObject, NewEvent, RecordedEvent } from '../../application/ports/EventStore';

export type SerializedEvent = {
  readonly eventId: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
};

export type EventRow = {
  readonly position: bigint;
  readonly stream_id: string;
  readonly revision: bigint;
  readonly event_id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
  readonly recorded_at: bigint;
};

export function serializeEvent(event: NewEvent): SerializedEvent {
  const label = `event ${event.id} (${event.type})`;
  return {
    eventId: event.id,
    type: event.type,
    data: toJsonText(event.data, `${label} data`),
    metadata: toJsonText(event.metadata, `${label} metadata`),
  };
}

/**
 * Serialises event data, rejecting values that JSON would turn into something else: a bigint
 * (JSON.stringify throws an unhelpful TypeError) and NaN or Infinity (stored as null).
 */
function toJsonText(value: JsonObject, label: string): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${label} must be a JSON object`);
  }
  return JSON.stringify(value, (key, item: unknown) => {
    if (typeof item === 'bigint') {
      throw new TypeError(`${label}: field "${key}" is a bigint, which JSON cannot hold; pass it as a decimal string`);
    }
    if (typeof item === 'number' && !Number.isFinite(item)) {
      throw new TypeError(`${label}: field "${key}" is ${item}, which JSON cannot hold`);
    }
    return item;
  });
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    streamId: row.stream_id,
    type: row.type,
    revision: row.revision,
    position: row.position,
    data: JSON.parse(row.data) as JsonObject,
    metadata: JSON.parse(row.metadata) as JsonObject,
    recordedAt: new Date(Number(row.recorded_at)),
  };
}
