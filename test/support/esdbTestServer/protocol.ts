/**
 * Loads gRPC and the generated EventStoreDB message classes from the very copy of
 * `@eventstore/db-client` that the adapter uses. The generated serializers check `instanceof`
 * and google-protobuf registers every message in one global namespace, so a second copy of
 * either would break the client and this server alike. Under Jest, `createRequire` goes
 * through Jest's module registry, so the instances are shared there as well.
 */
import { createRequire } from 'node:module';

import type * as GrpcJs from '@grpc/grpc-js';
import type * as StreamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb';
import type * as StreamsPb from '@eventstore/db-client/generated/streams_pb';
import type * as SharedPb from '@eventstore/db-client/generated/shared_pb';
import type * as StatusPb from '@eventstore/db-client/generated/status_pb';
import type * as ServerFeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb';
import type * as ServerFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb';
import type * as AnyPb from 'google-protobuf/google/protobuf/any_pb';
import type * as EmptyPb from 'google-protobuf/google/protobuf/empty_pb';

const clientRequire = createRequire(require.resolve('@eventstore/db-client'));

export const grpc = clientRequire('@grpc/grpc-js') as typeof GrpcJs;
export const streamsGrpc = clientRequire('../generated/streams_grpc_pb.js') as typeof StreamsGrpc;
export const streamsPb = clientRequire('../generated/streams_pb.js') as typeof StreamsPb;
export const sharedPb = clientRequire('../generated/shared_pb.js') as typeof SharedPb;
export const statusPb = clientRequire('../generated/status_pb.js') as typeof StatusPb;
export const serverFeaturesGrpc = clientRequire('../generated/serverfeatures_grpc_pb.js') as typeof ServerFeaturesGrpc;
export const serverFeaturesPb = clientRequire('../generated/serverfeatures_pb.js') as typeof ServerFeaturesPb;
export const anyPb = clientRequire('google-protobuf/google/protobuf/any_pb.js') as typeof AnyPb;
export const emptyPb = clientRequire('google-protobuf/google/protobuf/empty_pb.js') as typeof EmptyPb;

export type { GrpcJs, StreamsPb, SharedPb };

/** EventStoreDB's wire values for the expected-revision kinds that have no revision number. */
export const WIRE_EXPECTED_ANY = -2n;
export const WIRE_EXPECTED_NO_STREAM = -1n;
export const WIRE_EXPECTED_STREAM_EXISTS = -4n;

/** Decodes a stream name: the protocol sends it as bytes, not as a string. */
export function readStreamName(identifier: SharedPb.StreamIdentifier | undefined): string {
  if (identifier === undefined) {
    return '';
  }

  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
}

export function createStreamIdentifier(streamName: string): SharedPb.StreamIdentifier {
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Uint8Array.from(Buffer.from(streamName, 'utf8')));
  return identifier;
}

/** Reads a UUID sent either as a string or as two signed 64-bit halves. */
export function readUuid(uuid: SharedPb.UUID | undefined): string | undefined {
  if (uuid === undefined) {
    return undefined;
  }

  if (uuid.hasStructured()) {
    const structured = uuid.getStructured();
    const mostSignificant = BigInt.asUintN(64, BigInt(structured?.getMostSignificantBits() ?? '0'));
    const leastSignificant = BigInt.asUintN(64, BigInt(structured?.getLeastSignificantBits() ?? '0'));
    const hex = mostSignificant.toString(16).padStart(16, '0') + leastSignificant.toString(16).padStart(16, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  return uuid.getString();
}

/** Writes a UUID in the format the reader asked for; 64-bit halves travel as decimal strings. */
export function createUuid(id: string, structured: boolean): SharedPb.UUID {
  const uuid = new sharedPb.UUID();
  if (!structured) {
    uuid.setString(id);
    return uuid;
  }

  const hex = id.replace(/-/g, '');
  const halves = new sharedPb.UUID.Structured();
  halves.setMostSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`)).toString(10));
  halves.setLeastSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(16)}`)).toString(10));
  uuid.setStructured(halves);
  return uuid;
}

/**
 * Builds the status error EventStoreDB sends for a failed call. The client reads the
 * `exception` trailer to pick its error class, and some classes read further trailers
 * without checking them (`stream-name`, `expected-version`), so callers pass them all.
 */
export function createServiceError(
  code: GrpcJs.status,
  details: string,
  trailers: Record<string, string>,
): Partial<GrpcJs.ServiceError> {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(trailers)) {
    metadata.set(key, toHeaderValue(value));
  }

  return { code, details, metadata };
}

/** gRPC text metadata allows printable ASCII only, and stream names may hold any UTF-8. */
function toHeaderValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}
