import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../src/interfaces/http/openapi';
import {
  HTTP_METHODS,
  type HttpMethod,
  type JsonSchema,
  type OpenApiDocument,
  type OperationObject,
  type PathItemObject,
  type ResponseObject,
} from '../../src/interfaces/http/openapi/types';

/** Id under which the components are registered; `#/components/schemas/X` is rewritten to point into it. */
const COMPONENTS_ID = 'urn:shopstream:openapi:components';
const COMPONENT_REF_PREFIX = '#/components/schemas/';

export type ResponseToCheck = {
  readonly method: string;
  /** Path with optional query string, as requested. */
  readonly urlPath: string;
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
};

export type PathMatch = { readonly template: string; readonly item: PathItemObject; readonly parameters: Readonly<Record<string, string>> };

/** Makes an Ajv for OpenAPI 3.1 schemas: JSON Schema 2020-12 in strict mode, with the standard formats. */
export function createSchemaCompiler(document: OpenApiDocument = openApiDocument): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  // ajv-formats has no `idn-email`; the app's own validation is the exact rule, this only catches a non-address.
  ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: rewriteRefs(document.components.schemas) });
  return ajv;
}

/** Rewrites the document's `#/components/schemas/X` references so that Ajv resolves them in the registered components. */
export function rewriteRefs<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => rewriteRefs(item)) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' && inner.startsWith(COMPONENT_REF_PREFIX)
        ? `${COMPONENTS_ID}#/$defs/${inner.slice(COMPONENT_REF_PREFIX.length)}`
        : rewriteRefs(inner),
    ]),
  ) as T;
}

/**
 * Checks HTTP responses against the OpenAPI document: the status must be documented for the
 * operation, the body must match its schema, and the required headers must be present and
 * match theirs. A method the path does not list must be a 405 with the path's `Allow`, and a
 * path the document does not list must be a 404; both carry the error body.
 */
export class OpenApiResponseValidator {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<JsonSchema, ValidateFunction>();
  private readonly templates: ReadonlyArray<{ readonly template: string; readonly segments: readonly string[] }>;

  constructor(private readonly document: OpenApiDocument = openApiDocument) {
    this.ajv = createSchemaCompiler(document);
    this.templates = Object.keys(document.paths).map((template) => ({ template, segments: splitPath(template) }));
  }

  /** Throws an error that lists every mismatch, or returns when the response matches the document. */
  assertDocumented(response: ResponseToCheck): void {
    const problems = this.check(response);
    if (problems.length === 0) return;
    const excerpt = response.text.length > 500 ? `${response.text.slice(0, 500)}…` : response.text;
    throw new Error(
      `response does not match the OpenAPI document: ${response.method} ${response.urlPath} → ${response.status}\n` +
        problems.map((problem) => `  - ${problem}`).join('\n') +
        `\n  body: ${excerpt}`,
    );
  }

  /** Lists every way the response differs from the document; empty when it matches. */
  check(response: ResponseToCheck): string[] {
    const method = response.method.toLowerCase();
    const match = this.matchPath(response.urlPath);
    if (match === undefined) {
      return this.checkFallback(response, 404, 'not_found', `path ${pathOf(response.urlPath)} is not in the document`);
    }

    const operationMethod: HttpMethod | undefined = method === 'head' && match.item.get !== undefined ? 'get' : toHttpMethod(method);
    const operation = operationMethod === undefined ? undefined : match.item[operationMethod];
    if (operation === undefined) {
      const problems = this.checkFallback(response, 405, 'method_not_allowed', `${method.toUpperCase()} is not documented on ${match.template}`);
      return [...problems, ...this.checkAllow(response, match.item)];
    }
    return this.checkOperation(response, match.template, operation);
  }

  /**
   * Finds the path template a concrete path belongs to, ignoring the query and a trailing slash.
   * Literal segments win over parameters, from left to right, as Express's route order makes them
   * here: `/orders/user/7` is `/orders/user/{customer_id}`, not `/orders/{order_id}/…`.
   */
  matchPath(urlPath: string): PathMatch | undefined {
    const segments = splitPath(pathOf(urlPath));
    const candidates = this.templates
      .filter((candidate) => candidate.segments.length === segments.length)
      .filter((candidate) => candidate.segments.every((segment, index) => isParameter(segment) || sameLiteral(segment, segments[index])));
    candidates.sort((a, b) => literalRank(b.segments).localeCompare(literalRank(a.segments)));

    const best = candidates[0];
    if (best === undefined) return undefined;
    const parameters = Object.fromEntries(
      best.segments.flatMap((segment, index) => (isParameter(segment) ? [[segment.slice(1, -1), segments[index] ?? '']] : [])),
    );
    return { template: best.template, item: this.document.paths[best.template] as PathItemObject, parameters };
  }

  private checkOperation(response: ResponseToCheck, template: string, operation: OperationObject): string[] {
    const where = `${operation.operationId} (${response.method.toUpperCase()} ${template})`;
    const documented = operation.responses[String(response.status)];
    if (documented === undefined) {
      const statuses = Object.keys(operation.responses).join(', ');
      return [`status ${response.status} is not documented for ${where}; documented: ${statuses}`];
    }
    return [...this.checkHeaders(response, documented, where), ...this.checkBody(response, documented, where)];
  }

  private checkFallback(response: ResponseToCheck, status: number, code: string, reason: string): string[] {
    if (response.status !== status) return [`${reason}, so the status must be ${status}, not ${response.status}`];
    const problems = this.checkRequestIdHeader(response);
    const schema: JsonSchema = {
      type: 'object',
      allOf: [{ $ref: `${COMPONENT_REF_PREFIX}Error` }],
      properties: { error: { type: 'object', properties: { code: { const: code } } } },
    };
    return [...problems, ...this.checkJson(response, schema, `the ${status} error body`)];
  }

  private checkAllow(response: ResponseToCheck, item: PathItemObject): string[] {
    const listed = HTTP_METHODS.filter((method) => item[method] !== undefined).map((method) => method.toUpperCase());
    const expected = new Set([...listed, ...(item.get !== undefined ? ['HEAD'] : []), 'OPTIONS']);
    const allow = response.headers.get('allow');
    if (allow === null) return ['the 405 response has no Allow header'];

    const actual = new Set(allow.split(',').map((method) => method.trim()));
    const same = actual.size === expected.size && [...actual].every((method) => expected.has(method));
    return same ? [] : [`Allow is "${allow}", but the document lists ${[...expected].join(', ')}`];
  }

  private checkRequestIdHeader(response: ResponseToCheck): string[] {
    return response.headers.get('x-request-id') === null ? ['header X-Request-Id is missing'] : [];
  }

  private checkHeaders(response: ResponseToCheck, documented: ResponseObject, where: string): string[] {
    const problems: string[] = [];
    for (const [name, header] of Object.entries(documented.headers ?? {})) {
      const value = response.headers.get(name);
      if (value === null) {
        if (header.required === true) problems.push(`required header ${name} is missing (${where} → ${response.status})`);
        continue;
      }
      const validate = this.compile(header.schema);
      if (!validate(value)) problems.push(`header ${name}: ${JSON.stringify(value)} ${this.ajv.errorsText(validate.errors, { dataVar: name })}`);
    }
    return problems;
  }

  private checkBody(response: ResponseToCheck, documented: ResponseObject, where: string): string[] {
    const content = documented.content ?? {};
    const mediaTypes = Object.keys(content);
    if (mediaTypes.length === 0 || response.method.toUpperCase() === 'HEAD') {
      return response.text === '' ? [] : [`${where} → ${response.status} documents no body, but one was sent`];
    }

    const contentType = response.headers.get('content-type') ?? '';
    const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
    const media = content[mediaType];
    if (media === undefined) return [`Content-Type is "${contentType}", but ${where} → ${response.status} documents ${mediaTypes.join(', ')}`];
    if (mediaType !== 'application/json') return [];
    return this.checkJson(response, media.schema, `body of ${where} → ${response.status}`);
  }

  private checkJson(response: ResponseToCheck, schema: JsonSchema, what: string): string[] {
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      return [`${what} is not JSON`];
    }
    const validate = this.compile(schema);
    if (validate(body)) return [];
    return (validate.errors ?? []).map((error) => {
      const extra = error.keyword === 'additionalProperties' ? ` (${String((error.params as { additionalProperty?: string }).additionalProperty)})` : '';
      return `${what}: ${error.instancePath || '/'} ${error.message ?? error.keyword}${extra}`;
    });
  }

  private compile(schema: JsonSchema): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (validate === undefined) {
      validate = this.ajv.compile(rewriteRefs(schema));
      this.compiled.set(schema, validate);
    }
    return validate;
  }
}

function toHttpMethod(method: string): HttpMethod | undefined {
  return (HTTP_METHODS as readonly string[]).includes(method) ? (method as HttpMethod) : undefined;
}

function pathOf(urlPath: string): string {
  return urlPath.split(/[?#]/)[0] ?? '';
}

/** Splits a path into its segments; a trailing slash adds no segment, as Express's non-strict routing treats it. */
function splitPath(path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.split('/').slice(1);
}

const isParameter = (segment: string): boolean => segment.startsWith('{') && segment.endsWith('}');

/** Express matches paths case-insensitively by default. */
const sameLiteral = (literal: string, actual: string | undefined): boolean => actual !== undefined && literal.toLowerCase() === actual.toLowerCase();

/** "1" for each literal segment and "0" for each parameter: the lexically larger rank has its literals further left. */
const literalRank = (segments: readonly string[]): string => segments.map((segment) => (isParameter(segment) ? '0' : '1')).join('');

let sharedValidator: OpenApiResponseValidator | undefined;

/** Returns the validator of this test file, built on first use because compiling the schemas is slow. */
export function documentValidator(): OpenApiResponseValidator {
  sharedValidator ??= new OpenApiResponseValidator();
  return sharedValidator;
}
