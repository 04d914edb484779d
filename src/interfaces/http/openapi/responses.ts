import { RETRY_AFTER_SECONDS } from '../httpErrors';
import { BODY_LIMIT_BYTES } from '../routeSupport';
import { ref, type HeaderObject, type JsonSchema, type ParameterObject, type ResponseObject } from './types';

const REQUEST_ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';

/** Header on every response, whatever its status. */
export const REQUEST_ID_HEADER: HeaderObject = {
  description: 'The request id: the `X-Request-Id` the client sent when it was well-formed, otherwise a generated one. Logged and stored as the events\' `correlation_id`.',
  required: true,
  schema: { type: 'string', pattern: REQUEST_ID_PATTERN },
};

export const ETAG_HEADER: HeaderObject = {
  description: 'Stream revision of the resource, as a strong validator. Send it back in `If-Match`.',
  required: true,
  schema: { type: 'string', pattern: '^"(0|[1-9][0-9]*)"$', examples: ['"0"'] },
};

export const locationHeader = (collection: string): HeaderObject => ({
  description: 'Path of the created resource.',
  required: true,
  schema: { type: 'string', pattern: `^${collection}/[1-9][0-9]*$`, examples: [`${collection}/1`] },
});

export const allowHeader = (allow: string): HeaderObject => ({
  description: 'Methods the path supports.',
  required: true,
  schema: { const: allow },
});

const RETRY_AFTER_HEADER: HeaderObject = {
  description: 'Seconds to wait before retrying.',
  required: true,
  schema: { type: 'string', pattern: '^[1-9][0-9]*$', examples: [String(RETRY_AFTER_SECONDS)] },
};

export const REQUEST_ID_PARAMETER: ParameterObject = {
  name: 'X-Request-Id',
  in: 'header',
  description: 'Request id to use in logs and event metadata. Ignored, and replaced by a generated one, unless it matches the pattern.',
  schema: { type: 'string', pattern: REQUEST_ID_PATTERN },
};

export const IF_MATCH_PARAMETER: ParameterObject = {
  name: 'If-Match',
  in: 'header',
  description:
    'An `ETag` of this resource (`"3"`), or `*` for any existing revision. A stale or malformed value is a 412. ' +
    'Without it, a conflict with a concurrent writer is retried up to 5 times on fresh state.',
  schema: { type: 'string', examples: ['"0"', '*'] },
};

/** Builds the path parameter of a resource id. */
export function idParameter(name: string, resource: string): ParameterObject {
  return {
    name,
    in: 'path',
    required: true,
    description: `Id of the ${resource}: a positive integer of at most 2^53 − 1 in decimal without leading zeros; anything else is a 400.`,
    schema: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  };
}

/** Builds a JSON response with the request id header, plus `headers`. */
export function jsonResponse(description: string, schema: JsonSchema, headers: Readonly<Record<string, HeaderObject>> = {}): ResponseObject {
  return {
    description,
    headers: { 'X-Request-Id': REQUEST_ID_HEADER, ...headers },
    content: { 'application/json': { schema } },
  };
}

/** Builds an error response whose body may carry only `codes`. */
export function errorResponse(description: string, codes: readonly string[], headers: Readonly<Record<string, HeaderObject>> = {}): ResponseObject {
  const schema: JsonSchema = {
    type: 'object',
    allOf: [ref('Error')],
    properties: { error: { type: 'object', properties: { code: { type: 'string', enum: codes } } } },
  };
  return jsonResponse(`${description} Codes: ${codes.map((code) => `\`${code}\``).join(', ')}.`, schema, headers);
}

export const SERVER_ERROR = errorResponse('Unexpected failure; the details are only in the log.', ['internal_error']);

export const UNAVAILABLE = errorResponse('The event store or the read model store is unreachable.', ['service_unavailable'], {
  'Retry-After': RETRY_AFTER_HEADER,
});

export const INVALID_ID = errorResponse('The path id is not a positive integer.', ['validation_failed']);

export const NOT_FOUND = (resource: string): ResponseObject => errorResponse(`No such ${resource}, or it was deleted.`, ['not_found']);

/** Builds the error responses of a command, by what the command reads. */
export function commandErrors(options: {
  readonly body: boolean;
  readonly resource?: string;
  readonly conflicts: readonly string[];
}): Record<string, ResponseObject> {
  const { body, resource, conflicts } = options;
  return {
    '400': body
      ? errorResponse('The body is not valid JSON, fails validation or has unknown fields, or the path id is invalid; `details` lists each field.', [
          'validation_failed',
          'invalid_json',
        ])
      : INVALID_ID,
    ...(resource !== undefined && { '404': NOT_FOUND(resource) }),
    '409': errorResponse('The command conflicts with the current state.', conflicts),
    '412': errorResponse('`If-Match` is malformed, or does not match the current revision.', ['precondition_failed']),
    ...(body && {
      '413': errorResponse(`The body is larger than ${BODY_LIMIT_BYTES / 1024} KiB.`, ['payload_too_large']),
      '415': errorResponse('The body is not JSON: `Content-Type` must be `application/json`, in UTF-8.', ['unsupported_media_type']),
    }),
    '500': SERVER_ERROR,
    '503': UNAVAILABLE,
  };
}
