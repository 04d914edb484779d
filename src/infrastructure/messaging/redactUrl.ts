/**
 * Returns the URL with its password replaced by `***`, for logs. Any other string is replaced whole,
 * because a password could be anywhere in it. The check for `scheme://` is needed because the
 * WHATWG URL parser reads `user:password@host` as scheme `user:` with no password.
 */
export function redactUrl(url: string): string {
  const unparseable = '[unparseable URL]';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    return unparseable;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return unparseable;
  }

  if (parsed.password !== '') {
    parsed.password = '***';
  }
  return parsed.toString();
}
