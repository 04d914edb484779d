import { moneyToNumber, parseMoney, type Money } from '../../domain/shared/money';
import type { OrderEvent } from '../../domain/order/orderEvents';
import type { ProductEvent } from '../../domain/product/productEvents';
import type { UserEvent } from '../../domain/user/userEvents';
import type { JsonObject } from '../ports/EventStore';

export type DomainEvent = UserEvent | ProductEvent | OrderEvent;

/** Fields that hold `Money` in the domain and a JSON number with two decimals on the wire. */
const MONEY_FIELDS = new Set(['price', 'totalAmount']);

const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set<DomainEvent['type']>([
  'UserRegistered',
  'UserUpdated',
  'UserDeleted',
  'ProductCreated',
  'ProductUpdated',
  'ProductDeleted',
  'OrderCreated',
  'OrderStatusChanged',
]);

/** Turns a domain event into stored event data: snake_case keys, money as a decimal number. */
export function encodeEvent(event: DomainEvent): { type: string; data: JsonObject } {
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event.data)) {
    if (value === undefined) continue;
    data[toSnakeCase(key)] = MONEY_FIELDS.has(key) ? moneyToNumber(value as Money) : value;
  }
  return { type: event.type, data };
}

/**
 * Turns stored event data back into a domain event, or returns undefined for a type this
 * version does not know (helper streams, events written by a newer version).
 */
export function decodeEvent(type: string, data: JsonObject): DomainEvent | undefined {
  if (!KNOWN_EVENT_TYPES.has(type)) return undefined;

  const decoded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    const camelKey = toCamelCase(key);
    decoded[camelKey] = MONEY_FIELDS.has(camelKey) ? decodeMoney(type, key, value) : value;
  }
  return { type, data: decoded } as DomainEvent;
}

function decodeMoney(type: string, key: string, value: unknown): Money {
  const parsed = typeof value === 'number' ? parseMoney(value) : undefined;
  if (!parsed?.ok) {
    throw new Error(`stored ${type} event has an invalid ${key}: ${JSON.stringify(value)}`);
  }
  return parsed.money;
}

// Event field names are a small fixed set, so each conversion is computed once: the regular
// expressions took about 15 % of a rebuild's CPU time in a --cpu-prof profile.
// The caches stop growing at MAX_CACHED_NAMES, so stored data with unexpected keys cannot grow them without bound.
const MAX_CACHED_NAMES = 1000;
const snakeCaseNames = new Map<string, string>();
const camelCaseNames = new Map<string, string>();

function toSnakeCase(name: string): string {
  let converted = snakeCaseNames.get(name);
  if (converted === undefined) {
    converted = name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
    if (snakeCaseNames.size < MAX_CACHED_NAMES) snakeCaseNames.set(name, converted);
  }
  return converted;
}

function toCamelCase(name: string): string {
  let converted = camelCaseNames.get(name);
  if (converted === undefined) {
    converted = name.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
    if (camelCaseNames.size < MAX_CACHED_NAMES) camelCaseNames.set(name, converted);
  }
  return converted;
}
