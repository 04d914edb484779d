import { createServer } from 'node:net';
import type { Express } from 'express';
import type { AuditService } from '../../../src/application/audit/AuditService';
import type { HealthService } from '../../../src/application/health/HealthService';
import type { OrderService } from '../../../src/application/orders/OrderService';
import type { ProductService } from '../../../src/application/products/ProductService';
import type { ProjectionWaiter } from '../../../src/application/projection/ProjectionProgress';
import type { QueryService } from '../../../src/application/queries/QueryService';
import type { UserService } from '../../../src/application/users/UserService';
import { createApp } from '../../../src/interfaces/http/createApp';
import type { HttpMetrics } from '../../../src/interfaces/http/httpMetrics';
import { openApiDocument } from '../../../src/interfaces/http/openapi';
import { HTTP_METHODS, type JsonSchema, type OperationObject, type ParameterObject } from '../../../src/interfaces/http/openapi/types';
import { createSchemaCompiler, OpenApiResponseValidator, rewriteRefs, type ResponseToCheck } from '../../support/openApiResponseValidator';
import { silentLogger } from '../../support/silentLogger';
import { removeDataDir, startTestApp, type TestApp } from '../../support/testApp';

type ListedOperation = { readonly path: string; readonly method: string; readonly operation: OperationObject; readonly pathParameters: readonly ParameterObject[] };

const operations: ListedOperation[] = Object.entries(openApiDocument.paths).flatMap(([path, item]) =>
  HTTP_METHODS.flatMap((method) => {
    const operation = item[method];
    return operation === undefined ? [] : [{ path, method, operation, pathParameters: item.parameters ?? [] }];
  }),
);

describe('OpenAPI document', () => {
  it('has the OpenAPI 3.1 shape', () => {
    expect(openApiDocument.openapi).toBe('3.1.0');
    expect(openApiDocument.info.title).toEqual(expect.stringMatching(/\S/));
    expect(openApiDocument.info.version).toEqual(expect.stringMatching(/\S/));

    const operationIds = operations.map(({ operation }) => operation.operationId);
    expect(operationIds.filter((id, index) => operationIds.indexOf(id) !== index)).toEqual([]);

    for (const path of Object.keys(openApiDocument.paths)) {
      expect(path).toMatch(/^\/[^?#]*$/);
      expect(path === '/' || !path.endsWith('/')).toBe(true);
    }
    for (const { path, method, operation, pathParameters } of operations) {
      const where = `${method} ${path}`;
      const templateNames = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      const parameters = [...pathParameters, ...(operation.parameters ?? [])];
      const pathNames = parameters.filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name);
      expect({ where, names: pathNames.sort() }).toEqual({ where, names: templateNames.sort() });
      for (const parameter of parameters.filter((candidate) => candidate.in === 'path')) expect({ where, required: parameter.required }).toEqual({ where, required: true });

      expect({ where, statuses: Object.keys(operation.responses).filter((status) => !/^[1-5][0-9]{2}$/.test(status)) }).toEqual({ where, statuses: [] });
      for (const [status, response] of Object.entries(operation.responses)) {
        expect({ where, status, description: response.description }).toEqual({ where, status, description: expect.stringMatching(/\S/) });
        expect({ where, status, requestId: response.headers?.['X-Request-Id']?.required }).toEqual({ where, status, requestId: true });
      }
      expect({ where, tags: operation.tags.every((tag) => openApiDocument.tags?.some((declared) => declared.name === tag)) }).toEqual({ where, tags: true });
    }
  });

  it('resolves every reference', () => {
    const references = [...JSON.stringify(openApiDocument).matchAll(/"\$ref":"([^"]+)"/g)].map((match) => match[1] ?? '');
    expect(references.length).toBeGreaterThan(0);
    const unresolved = references.filter((reference) => {
      const name = reference.replace('#/components/schemas/', '');
      return !reference.startsWith('#/components/schemas/') || openApiDocument.components.schemas[name] === undefined;
    });
    expect(unresolved).toEqual([]);
  });

  it('compiles every schema with ajv', () => {
    const ajv = createSchemaCompiler();
    const schemas = collectSchemas(openApiDocument);
    expect(schemas.length).toBeGreaterThan(50);

    const failures = schemas.flatMap(({ where, schema }) => {
      try {
        ajv.compile(rewriteRefs(schema));
        return [];
      } catch (error) {
        return [`${where}: ${String(error)}`];
      }
    });
    expect(failures).toEqual([]);
  });

  it('documents every registered route', () => {
    const registered = listRoutes(createStubApp());
    const documented = new Set(operations.filter(({ method }) => method !== 'options').map(({ path, method }) => `${method.toUpperCase()} ${path}`));
    const registeredOperations = new Set(registered.filter(({ method }) => method !== '_ALL').map(({ path, method }) => `${method} ${path}`));

    expect(registered.length).toBeGreaterThan(10);
    expect([...registeredOperations].filter((operation) => !documented.has(operation))).toEqual([]);
    expect([...documented].filter((operation) => !registeredOperations.has(operation))).toEqual([]);
    // The catch-all 405 routes must sit on documented paths too.
    expect(registered.map(({ path }) => path).filter((path) => openApiDocument.paths[path] === undefined)).toEqual([]);
  });
});

describe('OpenAPI response validator', () => {
  const validator = new OpenApiResponseValidator();
  const user = { id: 1, email: 'user@example.com', username: 'user', created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' };

  it('accepts a documented response', () => {
    expect(validator.check(jsonResponse('GET', '/users/1', 200, { status: 'success', data: user }, { etag: '"0"' }))).toEqual([]);
  });

  it('rejects an undocumented field', () => {
    const leaked = { status: 'success', data: { ...user, password_hash: '$2b$04$abc' } };
    const problems = validator.check(jsonResponse('GET', '/users/1', 200, leaked, { etag: '"0"' }));
    expect(problems).toEqual([expect.stringContaining('password_hash')]);
    expect(() => validator.assertDocumented(jsonResponse('GET', '/users/1', 200, leaked, { etag: '"0"' }))).toThrow(/getUser.*password_hash/s);
  });

  it('rejects an undocumented status', () => {
    expect(validator.check(jsonResponse('GET', '/users/1', 418, { status: 'success', data: user }))).toEqual([
      expect.stringMatching(/status 418 is not documented for getUser/),
    ]);
  });

  it('rejects a missing required header', () => {
    expect(validator.check(jsonResponse('GET', '/users/1', 200, { status: 'success', data: user }))).toEqual([
      expect.stringMatching(/required header ETag is missing/),
    ]);
  });

  it('rejects an error code the response does not list', () => {
    const body = { status: 'error', error: { code: 'email_taken', message: 'taken' } };
    expect(validator.check(jsonResponse('GET', '/users/1', 404, body))).toEqual([expect.stringMatching(/\/error\/code/)]);
  });

  it('checks 405 and unknown paths', () => {
    const notAllowed = { status: 'error', error: { code: 'method_not_allowed', message: 'no' } };
    expect(validator.check(jsonResponse('PATCH', '/users/1', 405, notAllowed, { allow: 'GET, PUT, DELETE, HEAD, OPTIONS' }))).toEqual([]);
    expect(validator.check(jsonResponse('PATCH', '/users/1', 405, notAllowed, { allow: 'GET' }))).toEqual([expect.stringMatching(/^Allow is "GET"/)]);
    expect(validator.check(jsonResponse('GET', '/nowhere', 200, { ok: true }))).toEqual([expect.stringMatching(/must be 404, not 200/)]);
  });

  it('matches concrete paths to templates', () => {
    expect(validator.matchPath('/orders/user/7')?.template).toBe('/orders/user/{customer_id}');
    expect(validator.matchPath('/orders/7')?.template).toBe('/orders/{order_id}');
    expect(validator.matchPath('/orders/user')?.template).toBe('/orders/{order_id}');
    expect(validator.matchPath('/orders/7/status/')?.template).toBe('/orders/{order_id}/status');
    expect(validator.matchPath('/orders/user/status')?.template).toBe('/orders/user/{customer_id}');
    expect(validator.matchPath('/users/?x=1')?.template).toBe('/users');
    expect(validator.matchPath('/orders/user/7')?.parameters).toEqual({ customer_id: '7' });
    expect(validator.matchPath('/users/1/extra/more')).toBeUndefined();
  });
});

describe('API description endpoints', () => {
  let app: TestApp;

  beforeAll(async () => {
    // A closed port: the relay retries in the background, and the API does not need the broker.
    app = await startTestApp({ rabbitMqUrl: `amqp://guest:guest@127.0.0.1:${await closedPort()}` });
  });

  afterAll(async () => {
    await app?.stop();
    if (app !== undefined) removeDataDir(app.dataDir);
  });

  it('serves /openapi.json', async () => {
    const response = await app.request('GET', '/openapi.json');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
    expect((await app.request('GET', '/openapi.json/')).status).toBe(200);
  });

  it('serves a self-contained /docs page', async () => {
    const response = await app.request('GET', '/docs');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    for (const { operation } of operations) expect(response.text).toContain(`id="${operation.operationId}"`);
    expect(response.text).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(response.text).not.toMatch(/<script/i);
  });

  it('rejects other methods with 405', async () => {
    const response = await app.request('POST', '/openapi.json', {});

    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });
});

function jsonResponse(method: string, urlPath: string, status: number, body: unknown, headers: Record<string, string> = {}): ResponseToCheck {
  return {
    method,
    urlPath,
    status,
    headers: new Headers({ 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'test-1', ...headers }),
    text: JSON.stringify(body),
  };
}

/** Collects every schema in the document: components, parameters, request bodies, response bodies and headers. */
function collectSchemas(value: unknown, where = '#'): Array<{ where: string; schema: JsonSchema }> {
  if (typeof value !== 'object' || value === null) return [];
  const found: Array<{ where: string; schema: JsonSchema }> = [];
  for (const [key, inner] of Object.entries(value)) {
    const location = `${where}/${key}`;
    if (key === 'schema') found.push({ where: location, schema: inner as JsonSchema });
    else if (key === 'schemas' && where === '#/components') {
      for (const [name, schema] of Object.entries(inner as Record<string, JsonSchema>)) found.push({ where: `${location}/${name}`, schema });
    } else found.push(...collectSchemas(inner, location));
  }
  return found;
}

type RegisteredRoute = { readonly path: string; readonly method: string };

type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };

/** Lists the routes of an Express 5 app from its router stack, in OpenAPI path form. */
function listRoutes(app: Express): RegisteredRoute[] {
  const visit = (stack: readonly Layer[]): RegisteredRoute[] =>
    stack.flatMap((layer) => {
      if (layer.route !== undefined) {
        const path = layer.route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        const methods = Object.keys(layer.route.methods);
        // Router#all registers `_all`; Application#all registers every method one by one.
        if (methods.includes('_all') || HTTP_METHODS.every((method) => methods.includes(method))) return [{ path, method: '_ALL' }];
        return methods.map((method) => ({ path, method: method.toUpperCase() }));
      }
      return layer.handle?.stack === undefined ? [] : visit(layer.handle.stack);
    });
  return visit((app as unknown as { router: { stack: Layer[] } }).router.stack);
}

/** Builds an app whose services are never called, because only its routes are read. */
function createStubApp(): Express {
  const metrics: HttpMetrics = { observeHttpRequest: () => undefined, render: () => Promise.resolve({ contentType: 'text/plain', body: '' }) };
  return createApp({
    users: {} as UserService,
    products: {} as ProductService,
    orders: {} as OrderService,
    queries: {} as QueryService,
    audit: {} as AuditService,
    health: {} as HealthService,
    projection: {} as ProjectionWaiter,
    ids: { newId: () => 'stub' },
    readYourWritesTimeoutMs: 0,
    logger: silentLogger,
    metrics,
  });
}

/** Finds a loopback port that nothing listens on, by binding one and releasing it. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
