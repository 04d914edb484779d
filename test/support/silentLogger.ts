import type { Logger } from '../../src/application/ports/Logger';

/** A logger that drops every entry, for tests whose output would only be noise. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
