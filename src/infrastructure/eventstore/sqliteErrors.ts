// Classification of better-sqlite3 errors for the event store port. Result codes that mean the file
// cannot be used right now (busy, I/O, full disk, corrupt) become EventStoreUnavailableError.
import { EventStoreUnavailableError } from '../../application/ports/EventStore';

// Primary result codes (and their extended forms, e.g. SQLITE_IOERR_WRITE) that mean the file
// cannot be used right now, as opposed to a bad request or a bug.
const UNAVAILABLE_CODES = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_FULL',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_READONLY',
  'SQLITE_PROTOCOL',
  'SQLITE_NOMEM',
  'SQLITE_PERM',
  'SQLITE_NOLFS',
];

export function toStoreError(error: unknown, operation: string): Error {
  if (isUnavailableError(error)) {
    return new EventStoreUnavailableError(`event store ${operation} failed: ${errorMessage(error)}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(`event store ${operation} failed: ${String(error)}`);
}

export function isUnavailableError(error: unknown): boolean {
  if (!isSqliteError(error)) return false;
  const { code } = error;
  return UNAVAILABLE_CODES.some((unavailable) => code === unavailable || code.startsWith(`${unavailable}_`));
}

export function isDuplicateEventId(error: unknown): boolean {
  return (
    isSqliteError(error) &&
    error.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    error.message.includes('events.event_id')
  );
}

export function isFileSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && !isSqliteError(error);
}

export function closedError(): EventStoreUnavailableError {
  return new EventStoreUnavailableError('event store is closed');
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Recognises better-sqlite3's errors by name and code rather than `instanceof`: the native addon
 * keeps the error class of the first module instance that loaded it, which may extend another
 * realm's `Error` (each jest test file runs in a realm of its own), so even `instanceof Error` fails.
 */
function isSqliteError(error: unknown): error is Error & { code: string } {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  return name === 'SqliteError' && typeof code === 'string';
}
