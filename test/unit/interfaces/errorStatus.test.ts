import fs from 'node:fs';
import path from 'node:path';

import type { NextFunction, Request, Response } from 'express';

import { ApplicationError } from '../../../src/application/shared/applicationErrors';
import { DomainError } from '../../../src/domain/shared/errors';
import { errorHandler } from '../../../src/interfaces/http/errorHandler';
import { ERROR_STATUS, HttpError, RETRY_AFTER_SECONDS } from '../../../src/interfaces/http/httpErrors';

const SOURCE_ROOT = path.join(__dirname, '..', '..', '..', 'src');

/** Modules whose exported error classes can reach the HTTP layer. Every port module counts. */
const ERROR_MODULES = [
  'domain/shared/errors.ts',
  'application/shared/applicationErrors.ts',
  ...fs
    .readdirSync(path.join(SOURCE_ROOT, 'application', 'ports'))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => `application/ports/${file}`),
];

/** Abstract bases: they have no code of their own. */
const BASE_CLASSES: readonly unknown[] = [DomainError, ApplicationError];

/** Status of each code, written out from the API contract's error table. */
const CONTRACT_STATUS: Readonly<Record<string, number>> = {
  validation_failed: 400,
  invalid_json: 400,
  not_found: 404,
  method_not_allowed: 405,
  email_taken: 409,
  username_taken: 409,
  invalid_status_transition: 409,
  already_exists: 409,
  concurrency_conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  customer_not_found: 422,
  internal_error: 500,
  service_unavailable: 503,
};

type ErrorClass = new (...args: never[]) => Error;

type ErrorCase = { readonly module: string; readonly name: string; readonly instance: Error & { code?: unknown } };

/** Instantiates every exported class that extends Error, except the abstract bases. */
async function exportedErrors(): Promise<ErrorCase[]> {
  const cases: ErrorCase[] = [];
  for (const module of ERROR_MODULES) {
    const exports = (await import(path.join(SOURCE_ROOT, module))) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports)) {
      if (!isErrorClass(value) || BASE_CLASSES.includes(value)) continue;
      const construct = value as unknown as new (...args: unknown[]) => Error & { code?: unknown };
      cases.push({ module, name, instance: new construct('test message') });
    }
  }
  return cases;
}

function isErrorClass(value: unknown): value is ErrorClass {
  return typeof value === 'function' && value.prototype instanceof Error;
}

type CapturedResponse = { status: number | undefined; headers: Record<string, string>; body: unknown };

/** Runs the error handler with stand-ins for Express's request and response. */
function handle(error: unknown): CapturedResponse {
  const captured: CapturedResponse = { status: undefined, headers: {}, body: undefined };
  const log = { error: jest.fn(), info: jest.fn(), warn: jest.fn(), debug: jest.fn() };
  const response = {
    setHeader(name: string, value: string) {
      captured.headers[name] = value;
      return response;
    },
    status(code: number) {
      captured.status = code;
      return response;
    },
    json(body: unknown) {
      captured.body = body;
      return response;
    },
  };
  const next: NextFunction = () => undefined;
  void errorHandler(error, { log } as unknown as Request, response as unknown as Response, next);
  return captured;
}

describe('error classes', () => {
  let cases: ErrorCase[];

  beforeAll(async () => {
    cases = await exportedErrors();
  });

  it('finds the known classes', () => {
    const names = cases.map((errorCase) => errorCase.name);

    for (const expected of [
      'NotFoundError',
      'InvalidStatusTransitionError',
      'AlreadyExistsError',
      'EmailTakenError',
      'UsernameTakenError',
      'CustomerNotFoundError',
      'PreconditionFailedError',
      'ConcurrencyConflictError',
      'WrongExpectedRevisionError',
      'EventStoreUnavailableError',
      'ReadModelUnavailableError',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it('gives every class a string code', () => {
    for (const { name, instance } of cases) {
      expect({ name, codeType: typeof instance.code }).toEqual({ name, codeType: 'string' });
    }
  });

  it('gives every code a status row', () => {
    for (const { name, instance } of cases) {
      const code = String(instance.code);
      expect({ name, code, hasRow: code in ERROR_STATUS }).toEqual({ name, code, hasRow: true });
    }
  });

  it('maps every class through the handler', () => {
    for (const { name, instance } of cases) {
      const expected = ERROR_STATUS[String(instance.code)];
      expect({ name, status: handle(instance).status }).toEqual({ name, status: expected });
    }
  });
});

describe('ERROR_STATUS', () => {
  it.each(Object.entries(CONTRACT_STATUS))('maps %s to %i', (code, status) => {
    expect(ERROR_STATUS[code]).toBe(status);
  });

  it('has no rows beyond the contract', () => {
    expect(Object.keys(ERROR_STATUS).sort()).toEqual(Object.keys(CONTRACT_STATUS).sort());
  });
});

describe('errorHandler', () => {
  it('uses the shared error shape', async () => {
    const { NotFoundError } = await import('../../../src/domain/shared/errors');

    const { status, body } = handle(new NotFoundError('user 4 not found'));

    expect(status).toBe(404);
    expect(body).toEqual({ status: 'error', error: { code: 'not_found', message: 'user 4 not found' } });
  });

  it('keeps application error details', async () => {
    const { EmailTakenError } = await import('../../../src/application/shared/applicationErrors');
    const details = [{ field: 'email', message: 'email is already registered' }];

    const { status, body } = handle(new EmailTakenError('email ann@example.com is already registered', details));

    expect(status).toBe(409);
    expect(body).toEqual({ status: 'error', error: { code: 'email_taken', message: 'email ann@example.com is already registered', details } });
  });

  it('adds Retry-After to 503', async () => {
    const { EventStoreUnavailableError } = await import('../../../src/application/ports/EventStore');
    const { ReadModelUnavailableError } = await import('../../../src/application/ports/ReadModelStore');

    for (const error of [new EventStoreUnavailableError('connect ECONNREFUSED'), new ReadModelUnavailableError('timeout')]) {
      const { status, headers, body } = handle(error);
      expect(status).toBe(503);
      expect(headers['Retry-After']).toBe(String(RETRY_AFTER_SECONDS));
      expect(JSON.stringify(body)).not.toContain('ECONNREFUSED');
    }
  });

  it('hides unknown error details', () => {
    const error = new Error('connection to 10.0.0.5 refused; password=hunter2');

    const { status, body } = handle(error);

    expect(status).toBe(500);
    expect(body).toEqual({ status: 'error', error: { code: 'internal_error', message: 'internal server error' } });
  });

  it('hides thrown non-errors', () => {
    expect(handle('just a string').status).toBe(500);
    expect(handle(undefined).status).toBe(500);
  });

  it('passes HttpError status and headers', () => {
    const error = new HttpError(405, 'method_not_allowed', 'PATCH is not allowed', undefined, { Allow: 'GET, PUT, DELETE' });

    const { status, headers, body } = handle(error);

    expect(status).toBe(405);
    expect(headers.Allow).toBe('GET, PUT, DELETE');
    expect(body).toEqual({ status: 'error', error: { code: 'method_not_allowed', message: 'PATCH is not allowed' } });
  });

  it.each([
    ['entity.parse.failed', 400, 'invalid_json'],
    ['entity.too.large', 413, 'payload_too_large'],
    ['charset.unsupported', 415, 'unsupported_media_type'],
    ['encoding.unsupported', 415, 'unsupported_media_type'],
  ])('maps body-parser %s', (type, status, code) => {
    const error = Object.assign(new Error('raw parser message'), { type });

    const response = handle(error);

    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ status: 'error', error: { code } });
  });

  it('never sends a stack', async () => {
    const { PreconditionFailedError } = await import('../../../src/application/shared/applicationErrors');

    for (const error of [new PreconditionFailedError('stale'), new Error('boom')]) {
      const serialized = JSON.stringify(handle(error).body);
      expect(serialized).not.toContain('at ');
      expect(serialized).not.toContain('stack');
    }
  });
});
