import Joi from 'joi';
import { ORDER_STATUSES } from '../../domain/order/orderStatus';
import { parseMoney, type Money } from '../../domain/shared/money';
import { HttpError } from './httpErrors';

/** bcrypt uses at most 72 bytes of a password, so longer ones are rejected rather than silently cut. */
const PASSWORD_MIN_BYTES = 8;
const PASSWORD_MAX_BYTES = 72;

const MONEY_RULE = 'a JSON number from 0 to 999999999999.99 with at most two decimal places';

const money = Joi.number().messages({ 'number.base': `{{#label}} must be ${MONEY_RULE}` }).custom((value: number, helpers) => {
  const parsed = parseMoney(value);
  return parsed.ok ? value : helpers.message({ custom: `{{#label}} ${parsed.reason}` });
});

const password = Joi.string().custom((value: string, helpers) => {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < PASSWORD_MIN_BYTES || bytes > PASSWORD_MAX_BYTES) {
    return helpers.message({
      custom: `{{#label}} must be ${PASSWORD_MIN_BYTES} to ${PASSWORD_MAX_BYTES} bytes in UTF-8 (got ${bytes} bytes)`,
    });
  }
  return value;
});

const NAME_LENGTH_RULE = '{{#label}} must be 1 to 200 characters';

const positiveId = Joi.number()
  .integer()
  .min(1)
  .messages({ 'number.base': '{{#label}} must be a positive integer', 'number.integer': '{{#label}} must be a positive integer' });

const userFields = {
  email: Joi.string().max(254).email({ tlds: { allow: false } }),
  username: Joi.string()
    .pattern(/^[A-Za-z0-9._-]{3,32}$/)
    .message('{{#label}} must be 3 to 32 characters: letters, digits, ".", "_" or "-"'),
  password,
};

const productFields = {
  name: Joi.string()
    .trim()
    .min(1)
    .max(200)
    .messages({ 'string.empty': NAME_LENGTH_RULE, 'string.min': NAME_LENGTH_RULE, 'string.max': NAME_LENGTH_RULE }),
  description: Joi.string().allow('').max(5000),
  price: money,
  quantity: Joi.number().integer().min(0),
  shop_id: positiveId,
  category_id: positiveId,
};

export const schemas = {
  createUser: requireAll(userFields),
  updateUser: requireOneOf(userFields),
  createProduct: requireAll(productFields),
  updateProduct: requireOneOf(productFields),
  createOrder: requireAll({ customer_id: positiveId, total_amount: money }),
  changeOrderStatus: requireAll({ status: Joi.string().valid(...ORDER_STATUSES) }),
} as const;

const VALIDATION_OPTIONS: Joi.ValidationOptions = {
  convert: false,
  abortEarly: false,
  errors: { wrap: { label: false } },
  messages: { 'number.unsafe': '{{#label}} must be between -9007199254740991 and 9007199254740991 (2^53 - 1)' },
};

/** Field names per schema, cached because `describe()` walks the whole schema and showed up in request profiles. */
const fieldsBySchema = new WeakMap<Joi.ObjectSchema, readonly string[]>();

function allowedFields(schema: Joi.ObjectSchema): readonly string[] {
  let fields = fieldsBySchema.get(schema);
  if (fields === undefined) {
    fields = Object.keys((schema.describe().keys ?? {}) as object);
    fieldsBySchema.set(schema, fields);
  }
  return fields;
}

/**
 * Validates a JSON body: it must be an object whose fields are all known (checked on own
 * keys, so `__proto__` from JSON.parse is caught too), then it must pass the schema.
 * Types are never converted: "100" is not a number and `true` is not a string.
 */
export function validateBody<T>(schema: Joi.ObjectSchema, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw validationError([{ field: 'body', message: 'body must be a JSON object' }]);
  }

  const allowed = allowedFields(schema);
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw validationError(
      unknown.map((field) => ({ field, message: `${field} is not allowed; allowed fields: ${allowed.join(', ')}` })),
    );
  }

  const result = schema.validate(body, VALIDATION_OPTIONS) as Joi.ValidationResult<unknown>;
  if (result.error !== undefined) {
    throw validationError(result.error.details.map((detail) => ({ field: detail.path.join('.') || 'body', message: detail.message })));
  }
  return result.value as T;
}

/** Parses a path id; it must be a positive integer no larger than 2^53 - 1. */
export function parseIdParam(name: string, raw: string | string[] | undefined): number {
  const id = typeof raw === 'string' && /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(id)) {
    throw validationError([{ field: name, message: `${name} must be a positive integer (got ${JSON.stringify(raw)})` }]);
  }
  return id;
}

function requireOneOf(fields: Record<string, Joi.Schema>): Joi.ObjectSchema {
  return Joi.object(fields)
    .min(1)
    .messages({ 'object.min': `body must contain at least one of: ${Object.keys(fields).join(', ')}` });
}

function requireAll(fields: Record<string, Joi.Schema>): Joi.ObjectSchema {
  return Joi.object(Object.fromEntries(Object.entries(fields).map(([name, schema]) => [name, schema.required()])));
}

/** Builds the 400 `validation_failed` error with one detail per invalid field. */
export function validationError(details: Array<{ field: string; message: string }>): HttpError {
  const summary = [...new Set(details.map((detail) => detail.message))].join('; ');
  return new HttpError(400, 'validation_failed', `invalid request: ${summary}`, details);
}

/** Converts a money field that already passed its schema; a failure here is a bug, not bad input. */
export function toMoney(field: string, value: number): Money {
  const parsed = parseMoney(value);
  if (!parsed.ok) throw new Error(`${field} passed validation but does not parse: ${parsed.reason}`);
  return parsed.money;
}
