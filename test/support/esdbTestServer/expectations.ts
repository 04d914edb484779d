/**
 * Expected-revision conversions between the wire options of each Streams RPC and the
 * storage's `Expectation`. Every 64-bit value is a decimal string in the generated code:
 * setting a number or a bigint there sends "0" without any error.
 */
import type { Expectation, ProposedEvent } from './eventLog';
import type { StreamsPb } from './protocol';
import {
  WIRE_EXPECTED_ANY,
  WIRE_EXPECTED_NO_STREAM,
  WIRE_EXPECTED_STREAM_EXISTS,
  createServiceError,
  grpc,
  readUuid,
} from './protocol';

type ExpectationOptions =
  | StreamsPb.AppendReq.Options
  | StreamsPb.DeleteReq.Options
  | StreamsPb.TombstoneReq.Options;

/** Reads the expectation of Append, Delete and Tombstone, whose options share field names. */
export function readExpectation(options: ExpectationOptions): Expectation {
  if (options.hasRevision()) {
    return { kind: 'revision', revision: BigInt(options.getRevision()) };
  }
  if (options.hasNoStream()) {
    return { kind: 'no_stream' };
  }
  if (options.hasStreamExists()) {
    return { kind: 'stream_exists' };
  }
  return { kind: 'any' };
}

export function readBatchExpectation(options: StreamsPb.BatchAppendReq.Options): Expectation {
  if (options.hasStreamPosition()) {
    return { kind: 'revision', revision: BigInt(options.getStreamPosition()) };
  }
  if (options.hasNoStream()) {
    return { kind: 'no_stream' };
  }
  if (options.hasStreamExists()) {
    return { kind: 'stream_exists' };
  }
  return { kind: 'any' };
}

/** Returns the number EventStoreDB puts in the `expected-version` trailer for each expectation. */
export function wireExpectedVersion(expectation: Expectation): bigint {
  switch (expectation.kind) {
    case 'any':
      return WIRE_EXPECTED_ANY;
    case 'no_stream':
      return WIRE_EXPECTED_NO_STREAM;
    case 'stream_exists':
      return WIRE_EXPECTED_STREAM_EXISTS;
    case 'revision':
      return expectation.revision;
  }
}

type ProposedMessage = StreamsPb.AppendReq.ProposedMessage | StreamsPb.BatchAppendReq.ProposedMessage;

/** Returns the event, or the names of the required metadata entries it lacks. */
export function readProposedEvent(message: ProposedMessage): ProposedEvent | { missing: string[] } {
  const metadata = message.getMetadataMap();
  const type = metadata.get('type');
  const contentType = metadata.get('content-type');
  const id = readUuid(message.getId());
  if (type === undefined || contentType === undefined || id === undefined) {
    return { missing: ['type', 'content-type'] };
  }

  return {
    id,
    type,
    contentType,
    data: message.getData_asU8(),
    customMetadata: message.getCustomMetadata_asU8(),
  };
}

export function missingMetadataError(missing: readonly string[]) {
  return createServiceError(grpc.status.INVALID_ARGUMENT, `Required metadata properties are missing: ${missing.join(', ')}`, {
    exception: 'missing-required-metadata-property',
    'required-metadata-properties': missing.join(','),
  });
}

export function streamDeletedError(streamName: string) {
  return createServiceError(grpc.status.FAILED_PRECONDITION, `Event stream '${streamName}' is deleted.`, {
    exception: 'stream-deleted',
    'stream-name': streamName,
  });
}

/**
 * Builds the trailer form of a wrong-expected-version failure, used by Delete and Tombstone.
 * The client parses `stream-name` and `expected-version` unconditionally, so both are always set.
 */
export function wrongExpectedVersionError(streamName: string, expectation: Expectation, currentRevision: bigint | undefined) {
  const trailers: Record<string, string> = {
    exception: 'wrong-expected-version',
    'stream-name': streamName,
    'expected-version': wireExpectedVersion(expectation).toString(10),
  };
  if (currentRevision !== undefined) {
    trailers['actual-version'] = currentRevision.toString(10);
  }

  return createServiceError(grpc.status.FAILED_PRECONDITION, `Append failed due to WrongExpectedVersion. Stream: ${streamName}`, trailers);
}
