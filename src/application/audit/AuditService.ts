import { orderStreamName } from '../../domain/order/orderEvents';
import { productStreamName } from '../../domain/product/productEvents';
import { NotFoundError } from '../../domain/shared/errors';
import { userStreamName } from '../../domain/user/userEvents';
import { decodeEvent } from '../events/eventCodec';
import type { EventStore, RecordedEvent } from '../ports/EventStore';
import type { ViewRecord } from '../ports/ReadModelStore';
import { projectEvent } from '../projection/projections';
import { verifyChain, type ChainBreak } from './hashChain';
import type { StatePoint } from './statePoint';

export type AuditedResource = 'user' | 'product' | 'order';

export const AUDITED_RESOURCES: readonly AuditedResource[] = ['user', 'product', 'order'];

/** Replaces secret values in audit output; the stored event keeps the real value. */
export const REDACTED = '[redacted]';

const STREAM_NAMES: Readonly<Record<AuditedResource, (id: number) => string>> = {
  user: userStreamName,
  product: productStreamName,
  order: orderStreamName,
};

/** Fields of user events that never leave the service. */
const SECRET_USER_FIELDS = ['password_hash'];

export type ChainVerification = { readonly valid: true } | { readonly valid: false; readonly firstBrokenLink: ChainBreak };

export type StreamHistory = {
  readonly streamId: string;
  /** Every event of the stream in order, with secrets redacted. */
  readonly events: readonly RecordedEvent[];
  /** Present when verification was requested. */
  readonly verification?: ChainVerification;
};

/**
 * Serves auditors from the event store itself, never from the read models: a stream's
 * history, its hash chain, and an order's state at a past time or revision.
 */
export class AuditService {
  constructor(private readonly eventStore: EventStore) {}

  /** Returns every event of the resource's stream, deleted resources included; 404 when the stream never existed. */
  async history(resource: AuditedResource, id: number, options: { readonly verify: boolean }): Promise<StreamHistory> {
    const streamId = STREAM_NAMES[resource](id);
    const events = await this.eventStore.readStream(streamId);
    if (events.length === 0) throw new NotFoundError(`${resource} ${id} has no history: stream ${streamId} does not exist`);

    // Verification needs the stored values, so it runs before redaction.
    const verification = options.verify ? toVerification(verifyChain(events)) : undefined;
    return {
      streamId,
      events: resource === 'user' ? events.map(redactUserEvent) : events,
      ...(verification !== undefined && { verification }),
    };
  }

  /**
   * Folds the order's events up to `point` with the projector's code, so the result has the
   * shape GET returns. For a time, the fold takes the stream's events in order while their
   * `occurred_at` is at or before it: a prefix of the stream, so the state is one the order
   * really had even if writers' clocks disagreed.
   */
  async orderStateAt(orderId: number, point: StatePoint): Promise<ViewRecord<'orders'>> {
    const streamId = orderStreamName(orderId);
    const events = await this.eventStore.readStream(streamId);
    const lastEvent = events.at(-1);
    if (lastEvent === undefined) throw new NotFoundError(`order ${orderId} not found`);

    if (point.kind === 'revision' && point.revision > lastEvent.revision) {
      throw new NotFoundError(`order ${orderId} has revisions 0 to ${lastEvent.revision}; revision ${point.revision} does not exist`);
    }
    const included = point.kind === 'revision' ? eventsUpToRevision(events, point.revision) : eventsUpToTime(events, point.asOfMs);
    if (included.length === 0) {
      const when = point.kind === 'as_of' ? `at ${point.asOf}` : `at revision ${point.revision}`;
      throw new NotFoundError(`order ${orderId} did not exist ${when}; its first event occurred at ${occurredAt(events[0] ?? lastEvent)}`);
    }

    const record = foldOrder(included);
    if (record === undefined) throw new NotFoundError(`order ${orderId} has no order state up to the requested point`);
    return record;
  }
}

function foldOrder(events: readonly RecordedEvent[]): ViewRecord<'orders'> | undefined {
  let record: ViewRecord | undefined;
  for (const event of events) {
    const decoded = decodeEvent(event.type, event.data);
    if (decoded === undefined) continue;
    record = projectEvent(decoded, Number(event.revision), record)?.record ?? record;
  }
  return record as ViewRecord<'orders'> | undefined;
}

function eventsUpToRevision(events: readonly RecordedEvent[], revision: bigint): RecordedEvent[] {
  return events.filter((event) => event.revision <= revision);
}

function eventsUpToTime(events: readonly RecordedEvent[], asOfMs: number): RecordedEvent[] {
  const firstLater = events.findIndex((event) => Date.parse(occurredAt(event)) > asOfMs);
  return firstLater === -1 ? [...events] : events.slice(0, firstLater);
}

/** Returns the event's `occurred_at`, or the store's recording time for an event that lacks one. */
function occurredAt(event: RecordedEvent): string {
  const value = event.metadata.occurred_at;
  return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? value : event.recordedAt.toISOString();
}

function redactUserEvent(event: RecordedEvent): RecordedEvent {
  if (!SECRET_USER_FIELDS.some((field) => field in event.data)) return event;
  const data = { ...event.data };
  for (const field of SECRET_USER_FIELDS) if (field in data) data[field] = REDACTED;
  return { ...event, data };
}

function toVerification(found: ChainBreak | undefined): ChainVerification {
  return found === undefined ? { valid: true } : { valid: false, firstBrokenLink: found };
}
