import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from '../../application/ports/Logger';
import type { IdGenerator } from '../../application/ports/IdGenerator';
import { HttpError } from './httpErrors';

/** Media types accepted as JSON bodies. */
const JSON_MEDIA_TYPES = ['application/json', 'application/*+json'];

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

declare module 'express-serve-static-core' {
  interface Request {
    requestId: string;
    log: Logger;
  }
}

/** Accepts a well-formed `X-Request-Id` or generates one, echoes it, and binds it to the request's logger. */
export function requestContext(logger: Logger, ids: IdGenerator): RequestHandler {
  return (request, response, next) => {
    const supplied = request.get('x-request-id');
    request.requestId = supplied !== undefined && REQUEST_ID_PATTERN.test(supplied) ? supplied : ids.newId();
    request.log = logger.child({ requestId: request.requestId });
    response.setHeader('X-Request-Id', request.requestId);

    const startedAt = process.hrtime.bigint();
    response.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
      const context = { method: request.method, path: request.path, status: response.statusCode, durationMs };
      if (response.statusCode >= 500) request.log.error(context, 'request failed');
      else request.log.info(context, 'request completed');
    });
    next();
  };
}

/**
 * Reads a JSON body for a route that takes one: a non-JSON `Content-Type` is a 415 before the
 * body is read, and the body may be at most `limitBytes`. Mounted per route, so a wrong method
 * or path gets 405 or 404 whatever its body.
 */
export function jsonBody(limitBytes: number): RequestHandler {
  const parse = express.json({ limit: limitBytes, type: JSON_MEDIA_TYPES, strict: false });
  return (request, response, next) => {
    if (typeof request.is(JSON_MEDIA_TYPES) === 'string') {
      parse(request, response, next);
      return;
    }
    const received = JSON.stringify(request.get('content-type') ?? '');
    next(new HttpError(415, 'unsupported_media_type', `Content-Type must be application/json (got ${received})`));
  };
}

/** Responds to a known path whose method has no route: 405 with `Allow`, or 204 with `Allow` for OPTIONS. */
export function methodNotAllowed(allowed: readonly string[]): RequestHandler {
  const allow = [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
  return (request: Request, response: Response, next: NextFunction) => {
    response.setHeader('Allow', allow);
    if (request.method === 'OPTIONS') {
      response.status(204).end();
      return;
    }
    next(new HttpError(405, 'method_not_allowed', `method ${request.method} is not allowed on ${request.path}; allowed: ${allow}`));
  };
}
