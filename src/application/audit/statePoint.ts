/**
 * The point in a stream's life that a past state is folded up to: a time (events that occurred
 * at or before it) or a revision (inclusive). Parsers for both are shared by the HTTP API and
 * the CLI, which turn a failed parse into their own error.
 */
export type StatePoint =
  | { readonly kind: 'as_of'; readonly asOf: string; readonly asOfMs: number }
  | { readonly kind: 'revision'; readonly revision: bigint };

export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Date and time with a zone: seconds and up to nine fraction digits are optional. */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2}))$/;

export const AS_OF_EXAMPLE = '2026-03-01T09:30:00Z';

/**
 * Parses an ISO-8601 date and time with a zone (`Z` or `±hh:mm`) into epoch milliseconds.
 * A time without a zone is rejected because its meaning depends on the server's zone. Digits
 * past milliseconds are cut, which keeps the point at or after the events it covers.
 */
export function parseAsOf(text: string): ParseResult<StatePoint & { kind: 'as_of' }> {
  const invalid = { ok: false, reason: `must be an ISO-8601 date and time with a zone, e.g. ${AS_OF_EXAMPLE}` } as const;
  const match = ISO_DATE_TIME.exec(text);
  if (match === null) return invalid;

  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const milliseconds = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  const offsetHours = Number(match[10] ?? 0);
  const offsetMinutes = Number(match[11] ?? 0);

  // Date.UTC rolls 2026-02-30 over to March 2, so reading the fields back rejects days that do not exist.
  const localMs = Date.UTC(year, month - 1, day, hour, minute, second, milliseconds);
  const roundTrip = new Date(localMs);
  const dateExists = roundTrip.getUTCFullYear() === year && roundTrip.getUTCMonth() === month - 1 && roundTrip.getUTCDate() === day;
  const timeExists = hour < 24 && minute < 60 && second < 60 && offsetHours < 24 && offsetMinutes < 60;
  if (!dateExists || !timeExists) return invalid;

  const offsetMs = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  return { ok: true, value: { kind: 'as_of', asOf: text, asOfMs: localMs - offsetMs } };
}

/** Parses a stream revision: a non-negative decimal integer without sign or leading zeros. */
export function parseRevision(text: string): ParseResult<StatePoint & { kind: 'revision' }> {
  if (!/^(0|[1-9][0-9]{0,18})$/.test(text)) {
    return { ok: false, reason: `must be a non-negative integer, e.g. 0 for the first event (got ${JSON.stringify(text)})` };
  }
  return { ok: true, value: { kind: 'revision', revision: BigInt(text) } };
}
