import type { ErrorRequestHandler } from 'express';
import { EventStoreUnavailableError, WrongExpectedRevisionError } from '../../application/ports/EventStore';
import { ReadModelUnavailableError } from '../../application/ports/ReadModelStore';
import { ApplicationError } from '../../application/shared/applicationErrors';
import { DomainError } from '../../domain/shared/errors';
import { ERROR_STATUS, HttpError, RETRY_AFTER_SECONDS } from './httpErrors';
import { BODY_LIMIT_BYTES } from './routeSupport';

type ErrorBody = {
  status: 'error';
  error: { code: string; message: string; details?: ReadonlyArray<{ field: string; message: string }> };
};

/** body-parser's error types, mapped to this API's codes. */
const BODY_PARSER_ERRORS: Readonly<Record<string, { status: number; code: string; message: string }>> = {
  'entity.parse.failed': { status: 400, code: 'invalid_json', message: 'request body is not valid JSON' },
  'entity.too.large': { status: 413, code: 'payload_too_large', message: `request body is larger than the limit of ${BODY_LIMIT_BYTES / 1024} KiB` },
  'charset.unsupported': { status: 415, code: 'unsupported_media_type', message: 'only UTF-8 JSON bodies are accepted' },
  'encoding.unsupported': { status: 415, code: 'unsupported_media_type', message: 'unsupported Content-Encoding' },
};

/**
 * Turns every error into the API's one error shape. Unknown errors become a 500 with a
 * generic message: stack traces and internal messages stay in the log.
 */
export const errorHandler: ErrorRequestHandler = (error: unknown, request, response, _next) => {
  const { status, body, headers } = describe(error);

  if (status >= 500) request.log.error({ err: error, status }, 'request failed with an error');
  else request.log.info({ code: body.error.code, status }, 'request rejected');

  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  response.status(status).json(body);
};

function describe(error: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof HttpError) {
    return { status: error.status, body: errorBody(error.code, error.message, error.details), headers: { ...error.headers } };
  }
  // The command path turns version conflicts into ConcurrencyConflictError; one that escapes
  // another path still means "retry on fresh state", not a server fault.
  if (error instanceof DomainError || error instanceof ApplicationError || error instanceof WrongExpectedRevisionError) {
    const status = ERROR_STATUS[error.code] ?? 500;
    const details = error instanceof ApplicationError ? error.details : undefined;
    return { status, body: errorBody(error.code, error.message, details), headers: {} };
  }
  if (error instanceof EventStoreUnavailableError || error instanceof ReadModelUnavailableError) {
    const what = error instanceof EventStoreUnavailableError ? 'event store' : 'read model store';
    return {
      status: 503,
      body: errorBody('service_unavailable', `the ${what} is unavailable; retry after ${RETRY_AFTER_SECONDS} seconds`),
      headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    };
  }

  const bodyParserType = typeof error === 'object' && error !== null && 'type' in error ? String(error.type) : '';
  const bodyParserError = BODY_PARSER_ERRORS[bodyParserType];
  if (bodyParserError !== undefined) {
    return { status: bodyParserError.status, body: errorBody(bodyParserError.code, bodyParserError.message), headers: {} };
  }

  return { status: 500, body: errorBody('internal_error', 'internal server error'), headers: {} };
}

function errorBody(code: string, message: string, details?: ReadonlyArray<{ field: string; message: string }>): ErrorBody {
  return { status: 'error', error: { code, message, ...(details !== undefined && details.length > 0 && { details }) } };
}
