import {
  MongoBulkWriteError,
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import type { WriteError } from 'mongodb';

import { ReadModelUnavailableError } from '../../application/ports/ReadModelStore';

/** Server error code of a unique index violation (E11000). */
export const DUPLICATE_KEY_ERROR_CODE = 11000;

/**
 * Server error codes that mean "this server cannot serve the request right now" rather than
 * "the request is wrong": a primary stepping down, a shutdown, or a lost network path.
 */
const UNAVAILABLE_SERVER_ERROR_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/**
 * Converts a driver error that means the server cannot be reached into the port's
 * `ReadModelUnavailableError`, and returns every other error unchanged so that bugs stay visible.
 */
export function toReadModelError(error: unknown, operation: string): unknown {
  if (!isUnavailableError(error)) {
    return error;
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new ReadModelUnavailableError(`MongoDB unreachable during ${operation}: ${reason}`, { cause: error });
}

function isUnavailableError(error: unknown): boolean {
  if (
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoServerClosedError ||
    error instanceof MongoClientClosedError ||
    error instanceof MongoOperationTimeoutError
  ) {
    return true;
  }
  if (error instanceof MongoBulkWriteError) {
    // The driver wraps a network failure during a bulk write in a MongoBulkWriteError and
    // keeps the original error object as `errorResponse` (mongodb 7.x, lib/bulk/common.js).
    const wrapped: unknown = error.errorResponse;
    return wrapped instanceof Error && wrapped !== error && isUnavailableError(wrapped);
  }
  return (
    error instanceof MongoServerError &&
    typeof error.code === 'number' &&
    UNAVAILABLE_SERVER_ERROR_CODES.has(error.code)
  );
}

export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY_ERROR_CODE;
}

/**
 * Splits the write errors of an unordered bulk write into duplicate-key errors, which the
 * caller expects and handles, and the rest. Returns undefined for any other kind of error.
 */
export function bulkWriteErrors(error: unknown): { duplicateKeys: WriteError[]; others: WriteError[] } | undefined {
  // A write concern failure comes as a MongoBulkWriteError too, but with no write errors to split.
  if (!(error instanceof MongoBulkWriteError) || error.err !== undefined) {
    return undefined;
  }
  const writeErrors = error.result.getWriteErrors();
  if (writeErrors.length === 0) {
    return undefined;
  }
  return {
    duplicateKeys: writeErrors.filter((writeError) => writeError.code === DUPLICATE_KEY_ERROR_CODE),
    others: writeErrors.filter((writeError) => writeError.code !== DUPLICATE_KEY_ERROR_CODE),
  };
}
