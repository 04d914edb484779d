import pino from 'pino';
import type { Logger } from '../../application/ports/Logger';

/**
 * Builds the process logger: JSON lines on stdout. Fields that could carry a secret are
 * censored as a second line of defence; code never logs them on purpose. Tests pass a
 * `destination` to capture the lines.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger & pino.Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'shopstream' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['password', 'password_hash', 'passwordHash', '*.password', '*.password_hash', '*.passwordHash', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
