import canonicalize from 'canonicalize';

/** In a `u` regular expression a surrogate pair is one code point, so only a lone surrogate matches. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Serialises a JSON value as RFC 8785 (JSON Canonicalization Scheme) text with the
 * `canonicalize` package. RFC 8785 requires well-formed Unicode, which the package does not
 * check, so strings and keys with a lone surrogate are rejected here.
 */
export function canonicalJson(value: unknown): string {
  if (hasLoneSurrogate(value)) throw new TypeError('canonical JSON cannot hold a string with a lone surrogate');

  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (error) {
    throw new TypeError(`canonical JSON cannot hold this value: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (text === undefined) throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  return text;
}

function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).some(([key, member]) => LONE_SURROGATE.test(key) || hasLoneSurrogate(member));
  }
  return false;
}
