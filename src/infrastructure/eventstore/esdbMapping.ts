/**
 * Conversions between the event store port and `@eventstore/db-client` 6.x. Vendor types and
 * errors stop here and in EsdbEventStore; nothing else imports the client.
 *
 * Positions: EventStoreDB gives every event a `{ commit, prepare }` pair. For events written
 * by gRPC clients (server 20.6 and later) both numbers are the event's log position, so the
 * port's single bigint is the commit position, and a port position P is sent back as
 * `{ commit: P, prepare: P }`. Positions stay bigint all the way; they never become JS numbers.
 */
import {
  ANY,
  CancelledError,
  DeadlineExceededError,
  NO_STREAM,
  NotLeaderError,
  STREAM_EXISTS,
  StreamDeletedError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError,
  convertToCommandError,
  jsonEvent,
} from '@eventstore/db-client';
import type { AllStreamResolvedEvent, AppendExpectedRevision, EventData, Position, ResolvedEvent } from '@eventstore/db-client';

import { EventStoreUnavailableError, WrongExpectedRevisionError } from '../../application/ports/EventStore';
import type { ExpectedRevision, JsonObject, NewEvent, RecordedEvent } from '../../application/ports/EventStore';

export function toAppendExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      return expected;
  }
}

export function fromAppendExpectedRevision(expected: AppendExpectedRevision): ExpectedRevision {
  switch (expected) {
    case ANY:
      return 'any';
    case NO_STREAM:
      return 'no_stream';
    case STREAM_EXISTS:
      return 'stream_exists';
    default:
      return expected;
  }
}

export function toPosition(position: bigint): Position {
  return { commit: position, prepare: position };
}

export function toEventData(event: NewEvent): EventData {
  return jsonEvent({ id: event.id, type: event.type, data: { ...event.data }, metadata: { ...event.metadata } });
}

/**
 * Streams and event types that start with `$` belong to the server: stream metadata (`$$…`),
 * projections (`$ce-…`, `$et-…` link events), statistics, users, and tombstones
 * (`$streamDeleted`, written into the deleted stream itself).
 */
export function isSystemEvent(resolved: ResolvedEvent | AllStreamResolvedEvent): boolean {
  const event = resolved.event;
  return event === undefined || event.streamId.startsWith('$') || event.type.startsWith('$');
}

/** Converts a resolved event; throws when it lacks a position or does not hold JSON objects. */
export function fromResolvedEvent(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent {
  const event = resolved.event;
  if (event === undefined) {
    throw new Error('event store returned a link to a deleted event; links are not resolved here');
  }
  const position = event.position?.commit ?? resolved.commitPosition;
  if (position === undefined) {
    throw new Error(`event ${event.id} in stream ${event.streamId} has no log position; EventStoreDB 22.6 or later is required`);
  }

  return {
    id: event.id,
    streamId: event.streamId,
    type: event.type,
    revision: event.revision,
    position,
    data: toJsonObject(event.data, event.id, 'data'),
    metadata: event.metadata === undefined ? {} : toJsonObject(event.metadata, event.id, 'metadata'),
    recordedAt: event.created,
  };
}

function toJsonObject(value: unknown, eventId: string, field: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new Error(`event ${eventId} has ${field} that is not a JSON object`);
  }
  return value as JsonObject;
}

/**
 * Converts a client error into the port's errors: a failed expectation becomes
 * `WrongExpectedRevisionError`, and a server that cannot be reached, timed out or cancelled
 * the call becomes `EventStoreUnavailableError`. Other errors keep their message and cause.
 */
export function toPortError(
  error: unknown,
  operation: string,
  request: { readonly streamId?: string; readonly expected?: ExpectedRevision } = {},
): Error {
  if (error instanceof WrongExpectedRevisionError || error instanceof EventStoreUnavailableError) {
    return error;
  }
  // Some paths of the client reject with the raw gRPC error, for example a failed ServerFeatures call.
  const converted = isGrpcError(error) ? convertToCommandError(error) : error;
  if (converted instanceof WrongExpectedVersionError) {
    const expected = request.expected ?? fromAppendExpectedRevision(converted.expectedVersion);
    return new WrongExpectedRevisionError(request.streamId ?? converted.streamName, expected, converted.actualVersion);
  }
  if (converted instanceof StreamDeletedError) {
    // The port has no error for this: the application never tombstones its streams.
    return new Error(`event store ${operation} failed: stream ${converted.streamName} is deleted for good (tombstoned)`, {
      cause: converted,
    });
  }
  if (isUnavailable(converted)) {
    return new EventStoreUnavailableError(`event store ${operation} failed: ${messageOf(converted)}`, { cause: converted });
  }
  return new Error(`event store ${operation} failed: ${messageOf(converted)}`, { cause: converted });
}

function isGrpcError(error: unknown): error is Error & { code: number } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number';
}

function isUnavailable(error: unknown): boolean {
  return (
    error instanceof UnavailableError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof CancelledError ||
    error instanceof NotLeaderError
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Replaces the password of `esdb://user:password@host` connection strings, for logs. */
export function redactConnectionString(connectionString: string): string {
  return connectionString.replace(/(\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}
