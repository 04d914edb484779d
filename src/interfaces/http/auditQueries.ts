import { parseAsOf, parseRevision, type StatePoint } from '../../application/audit/statePoint';
import { validationError } from './validation';

type Query = Readonly<Record<string, unknown>>;

/**
 * Validates the query of `GET /orders/{id}`: empty (the read model's current state), or exactly
 * one of `as_of` (ISO-8601 date and time with a zone) and `revision` (a non-negative integer).
 */
export function parseStatePointQuery(query: Query): StatePoint | undefined {
  rejectUnknownParameters(query, ['as_of', 'revision']);
  const asOf = singleValue(query, 'as_of');
  const revision = singleValue(query, 'revision');

  if (asOf !== undefined && revision !== undefined) {
    const message = 'as_of and revision cannot be combined; give one of them';
    throw validationError([
      { field: 'as_of', message },
      { field: 'revision', message },
    ]);
  }
  if (asOf !== undefined) {
    const parsed = parseAsOf(asOf);
    if (!parsed.ok) {
      // The query string parser decodes "+" to a space, which is the usual way a "+01:00" zone breaks.
      const hint = asOf.includes(' ') ? '; write "+" in a URL as %2B' : '';
      throw validationError([{ field: 'as_of', message: `as_of ${parsed.reason} (got ${JSON.stringify(asOf)})${hint}` }]);
    }
    return parsed.value;
  }
  if (revision !== undefined) {
    const parsed = parseRevision(revision);
    if (!parsed.ok) throw validationError([{ field: 'revision', message: `revision ${parsed.reason}` }]);
    return parsed.value;
  }
  return undefined;
}

/** Validates the query of `GET /{resource}/{id}/history`: optional `verify=true|false`. */
export function parseHistoryQuery(query: Query): { verify: boolean } {
  rejectUnknownParameters(query, ['verify']);
  const verify = singleValue(query, 'verify');
  if (verify === undefined || verify === 'false') return { verify: false };
  if (verify === 'true') return { verify: true };
  throw validationError([{ field: 'verify', message: `verify must be true or false (got ${JSON.stringify(verify)})` }]);
}

function rejectUnknownParameters(query: Query, allowed: readonly string[]): void {
  const unknown = Object.keys(query).filter((name) => !allowed.includes(name));
  if (unknown.length === 0) return;
  throw validationError(
    unknown.map((field) => ({ field, message: `${field} is not a query parameter of this path; allowed: ${allowed.join(', ')}` })),
  );
}

/** Returns the parameter's value; a parameter given twice, or with brackets, is rejected. */
function singleValue(query: Query, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || typeof value === 'string') return value;
  throw validationError([{ field: name, message: `${name} must be given once, as a plain value` }]);
}
