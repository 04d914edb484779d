import { ORDER_STATUSES } from '../../../domain/order/orderStatus';
import { ref, type JsonSchema } from './types';

/** 2^53 - 1: larger integers lose precision as JSON numbers, so the API rejects them. */
const MAX_SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

const positiveId = (description: string): JsonSchema => ({ type: 'integer', minimum: 1, maximum: MAX_SAFE_INTEGER, description });

const money = (description: string): JsonSchema => ({
  type: 'number',
  minimum: 0,
  maximum: 999_999_999_999.99,
  // `multipleOf: 0.01` would reject valid amounts such as 0.07 through binary rounding, so the rule is stated in words.
  description: `${description} At most two decimal places: 19.999 is rejected, never rounded. Kept as integer cents inside.`,
  examples: [100, 19.99],
});

const timestamp: JsonSchema = { type: 'string', format: 'date-time', description: 'UTC time in ISO 8601 with milliseconds.' };

/** A global log position: a 64-bit unsigned integer, sent as a decimal string so that no precision is lost. */
const position: JsonSchema = { type: ['string', 'null'], pattern: '^(0|[1-9][0-9]*)$' };

const userFields = {
  email: {
    type: 'string',
    format: 'idn-email',
    maxLength: 254,
    description: 'A valid email address (Unicode allowed, any top-level domain), at most 254 characters. Unique among live users, ignoring case.',
  },
  username: {
    type: 'string',
    pattern: '^[A-Za-z0-9._-]{3,32}$',
    description: '3 to 32 letters, digits, ".", "_" or "-". Unique among live users, ignoring case.',
  },
  password: {
    type: 'string',
    minLength: 2,
    maxLength: 72,
    description:
      '8 to 72 bytes in UTF-8; longer ones are rejected, not cut, because bcrypt ignores bytes past 72. ' +
      'The length limits in characters follow from the byte rule. Stored as a bcrypt hash that never leaves the service.',
  },
} as const satisfies Record<string, JsonSchema>;

const productFields = {
  name: {
    type: 'string',
    minLength: 1,
    maxLength: 200,
    pattern: '^\\S(?:[\\s\\S]*\\S)?$',
    description: '1 to 200 characters, without leading or trailing whitespace.',
  },
  description: {
    type: 'string',
    maxLength: 5000,
    description: 'Up to 5000 UTF-16 code units; may be empty.',
  },
  price: money('Price.'),
  quantity: { type: 'integer', minimum: 0, maximum: MAX_SAFE_INTEGER, description: 'Units in stock.' },
  shop_id: positiveId('Shop the product belongs to.'),
  category_id: positiveId('Category of the product.'),
} as const satisfies Record<string, JsonSchema>;

const orderStatus: JsonSchema = {
  type: 'string',
  enum: ORDER_STATUSES,
  description:
    'Orders start `pending`. Allowed moves: pending → processed or cancelled; processed → shipped or cancelled; ' +
    'shipped → delivered. Setting the current status again succeeds and changes nothing.',
};

const dependencyCheck: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { status: { type: 'string', enum: ['up', 'down'] }, error: { type: 'string' } },
};

const workerReportProperties = {
  role: {
    type: 'string',
    enum: ['active', 'standby', 'disabled'],
    description: '`active`: this process runs the worker; `standby`: another instance holds its lease; `disabled`: not one of this process\'s roles.',
  },
  state: { type: 'string', enum: ['running', 'retrying', 'stopped'] },
  checkpoint: { ...position, description: 'Last log position the worker has handled; null before its first batch.' },
  lag: { ...position, description: 'Head position minus checkpoint, in log positions (an event count on the embedded store).' },
  stalled: {
    type: 'boolean',
    description:
      'True when this process runs the worker and its checkpoint has not moved for longer than `STALL_THRESHOLD_MS` while events of its streams wait after it. ' +
      'Always false for a standby or disabled worker.',
  },
} as const satisfies Record<string, JsonSchema>;

/** Wraps fields in an object schema that rejects unknown fields; `required` lists the mandatory ones. */
function strictObject(properties: Readonly<Record<string, JsonSchema>>, required: readonly string[], description?: string): JsonSchema {
  return { type: 'object', additionalProperties: false, required, properties, ...(description !== undefined && { description }) };
}

const namesOf = (fields: Readonly<Record<string, JsonSchema>>): string[] => Object.keys(fields);

/** `components.schemas` of the API description. */
export const componentSchemas: Readonly<Record<string, JsonSchema>> = {
  ErrorDetail: strictObject(
    { field: { type: 'string', minLength: 1 }, message: { type: 'string', minLength: 1 } },
    ['field', 'message'],
    'One invalid field: its name (`body` for the body as a whole) and what is wrong with it.',
  ),
  Error: strictObject(
    {
      status: { const: 'error' },
      error: strictObject(
        {
          code: { type: 'string', description: 'Stable machine-readable code; the response lists the codes it can carry.' },
          message: { type: 'string', minLength: 1, description: 'Human-readable explanation; never a stack trace.' },
          details: { type: 'array', minItems: 1, items: ref('ErrorDetail') },
        },
        ['code', 'message'],
      ),
    },
    ['status', 'error'],
    'The one error shape of every endpoint.',
  ),

  User: strictObject(
    { id: positiveId('User id.'), email: userFields.email, username: userFields.username, created_at: timestamp, updated_at: timestamp },
    ['id', 'email', 'username', 'created_at', 'updated_at'],
    'A user as GET returns it; the password and its hash are never included.',
  ),
  UserEnvelope: strictObject({ status: { const: 'success' }, data: ref('User') }, ['status', 'data']),
  CreateUserRequest: strictObject(userFields, namesOf(userFields)),
  UpdateUserRequest: { ...strictObject(userFields, []), minProperties: 1, description: 'Any non-empty subset of the user fields.' },

  Product: strictObject(
    { id: positiveId('Product id.'), ...productFields, created_at: timestamp, updated_at: timestamp },
    ['id', ...namesOf(productFields), 'created_at', 'updated_at'],
  ),
  CreateProductRequest: strictObject(productFields, namesOf(productFields)),
  UpdateProductRequest: { ...strictObject(productFields, []), minProperties: 1, description: 'Any non-empty subset of the product fields.' },

  Order: strictObject(
    {
      id: positiveId('Order id.'),
      customer_id: positiveId('The user who placed the order.'),
      total_amount: money('Order total.'),
      status: orderStatus,
      created_at: timestamp,
      updated_at: timestamp,
    },
    ['id', 'customer_id', 'total_amount', 'status', 'created_at', 'updated_at'],
  ),
  OrderList: { type: 'array', items: ref('Order'), description: "The customer's orders, oldest first." },
  CreateOrderRequest: strictObject(
    {
      customer_id: positiveId('An existing, not deleted user.'),
      total_amount: money('Order total.'),
    },
    ['customer_id', 'total_amount'],
  ),
  ChangeOrderStatusRequest: strictObject({ status: orderStatus }, ['status']),

  Liveness: strictObject({ status: { const: 'ok' } }, ['status']),
  DependencyCheck: dependencyCheck,
  ReadinessReport: strictObject(
    {
      status: { type: 'string', enum: ['ready', 'not_ready'] },
      dependencies: strictObject(
        { event_store: ref('DependencyCheck'), read_models: ref('DependencyCheck'), message_broker: ref('DependencyCheck') },
        ['event_store', 'read_models', 'message_broker'],
      ),
      projector: strictObject(workerReportProperties, namesOf(workerReportProperties)),
      relay: strictObject(
        { ...workerReportProperties, messages_published: { type: 'integer', minimum: 0, description: 'Messages the broker confirmed since this process started.' } },
        [...namesOf(workerReportProperties), 'messages_published'],
      ),
      head_position: { ...position, description: 'Position of the newest event in the log; null when the log is empty or unreachable.' },
    },
    ['status', 'dependencies', 'projector', 'relay', 'head_position'],
    'Ready when the event store and read model store answer and the projector runs and is not stalled (where this process runs it). ' +
      'A broker outage or a stalled relay does not make the service unready: commands still succeed and their messages wait in the log.',
  ),
};
