import { AUDITED_RESOURCES, REDACTED } from '../../../application/audit/AuditService';
import { pathItem } from './pathItems';
import { errorResponse, idParameter, jsonResponse, REQUEST_ID_PARAMETER, SERVER_ERROR, UNAVAILABLE } from './responses';
import { ref, type HeaderObject, type JsonSchema, type ParameterObject, type PathItemObject, type ResponseObject } from './types';

const revision: JsonSchema = { type: 'integer', minimum: 0, description: 'Zero-based place of the event in its stream.' };
const position: JsonSchema = { type: 'string', pattern: '^(0|[1-9][0-9]*)$', description: 'Place in the global log, a 64-bit integer as a decimal string.' };

const eventRecord = (data: JsonSchema): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required: ['event_id', 'revision', 'position', 'type', 'recorded_at', 'data', 'metadata'],
  properties: {
    event_id: { type: 'string', minLength: 1 },
    revision,
    position,
    type: { type: 'string', minLength: 1, description: 'Past-tense event type, e.g. `OrderCreated`.' },
    recorded_at: { type: 'string', format: 'date-time', description: 'When the event store recorded the event.' },
    data,
    metadata: {
      type: 'object',
      description:
        '`correlation_id`, `causation_id` and `occurred_at`, plus `previous_hash` and `hash`, which chain the stream. ' +
        'Events written before chaining existed have no hash fields.',
    },
  },
});

/** Schemas of the audit endpoints, added to `components.schemas`. */
export const auditSchemas: Readonly<Record<string, JsonSchema>> = {
  EventRecord: eventRecord({ type: 'object', description: 'The event data as stored, in snake_case.' }),
  UserEventRecord: eventRecord({
    type: 'object',
    description: `The event data as stored, except that a password hash is replaced by "${REDACTED}".`,
    properties: { password_hash: { const: REDACTED } },
  }),
  ChainVerification: {
    oneOf: [
      { type: 'object', additionalProperties: false, required: ['valid'], properties: { valid: { const: true } } },
      {
        type: 'object',
        additionalProperties: false,
        required: ['valid', 'first_broken_link'],
        properties: {
          valid: { const: false },
          first_broken_link: {
            type: 'object',
            additionalProperties: false,
            required: ['revision', 'reason', 'expected', 'actual'],
            properties: {
              revision,
              reason: {
                type: 'string',
                enum: ['unexpected_revision', 'missing_hash', 'missing_previous_hash', 'previous_hash_mismatch', 'hash_mismatch'],
              },
              expected: { type: ['string', 'null'], description: 'What verification computed: a hash, or a revision for `unexpected_revision`.' },
              actual: { type: ['string', 'null'], description: 'What the store contains there, or null when the field is missing.' },
            },
          },
        },
      },
    ],
    description: 'Result of checking the stream\'s hash chain: valid, or the first link that does not verify.',
  },
};

const VERIFY_PARAMETER: ParameterObject = {
  name: 'verify',
  in: 'query',
  description: '`true` also verifies the stream\'s hash chain. Any other query parameter is a 400.',
  schema: { type: 'string', enum: ['true', 'false'] },
};

function historyPath(resource: string): PathItemObject {
  const idName = `${resource}_id`;
  const events = resource === 'user' ? ref('UserEventRecord') : ref('EventRecord');
  const history: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'stream', 'events'],
    properties: {
      id: { type: 'integer', minimum: 1 },
      stream: { type: 'string', description: `Event stream name, \`${resource}-{id}\`.` },
      events: { type: 'array', minItems: 1, items: events },
      verification: { ...ref('ChainVerification'), description: 'Present when `verify=true`.' },
    },
  };

  return pathItem(
    `${resource}History`,
    {
      get: {
        operationId: `get${resource[0]?.toUpperCase() ?? ''}${resource.slice(1)}History`,
        summary: `Event history of a ${resource}`,
        description: `Every event of the ${resource}'s stream, read from the event store, not from the read models; deleted ${resource}s included.`,
        tags: ['audit'],
        parameters: [REQUEST_ID_PARAMETER, VERIFY_PARAMETER],
        responses: {
          '200': jsonResponse('The stream, oldest event first.', history),
          '400': errorResponse('The path id is invalid, `verify` is not `true` or `false`, or the query has another parameter.', ['validation_failed']),
          '404': errorResponse(`No ${resource} ever had this id.`, ['not_found']),
          '500': SERVER_ERROR,
          '503': UNAVAILABLE,
        },
      },
    },
    [idParameter(idName, resource)],
  );
}

/** `GET /{resource}s/{id}/history` for users, products and orders. */
export const auditPaths: Readonly<Record<string, PathItemObject>> = Object.fromEntries(
  AUDITED_RESOURCES.map((resource) => [`/${resource}s/{${resource}_id}/history`, historyPath(resource)]),
);

/** Query parameters of `GET /orders/{order_id}` that read a past state from the event store. */
export const ORDER_STATE_PARAMETERS: readonly ParameterObject[] = [
  {
    name: 'as_of',
    in: 'query',
    description:
      'Returns the order as it was at this time: ISO 8601 with a zone (`Z` or `±hh:mm`; write `+` as `%2B`). ' +
      'Folds the events whose `occurred_at` is at or before it. Cannot be combined with `revision`.',
    schema: { type: 'string', examples: ['2026-03-01T09:30:00Z'] },
  },
  {
    name: 'revision',
    in: 'query',
    description: 'Returns the order as it was after the event at this stream revision (0 is its creation). Cannot be combined with `as_of`.',
    schema: { type: 'string', pattern: '^(0|[1-9][0-9]{0,18})$' },
  },
];

/** Header of `GET /orders/{order_id}` when it returns a past state. */
export const X_REVISION_HEADER: HeaderObject = {
  description: 'With `as_of` or `revision`: the stream revision of the returned state, also in `ETag`.',
  schema: { type: 'string', pattern: '^(0|[1-9][0-9]*)$' },
};

/** The 400 of `GET /orders/{order_id}`, whose query selects a past state. */
export const ORDER_STATE_INVALID: ResponseObject = errorResponse(
  'The path id is invalid, `as_of` or `revision` is malformed, both are given, or the query has another parameter.',
  ['validation_failed'],
);
