/**
 * Money as an integer count of minor units (cents), so sums and comparisons are exact.
 * Amounts arrive and leave as JSON numbers with at most two decimal places.
 */
export type Money = { readonly minorUnits: number };

/** The largest accepted amount, 999,999,999,999.99; its minor units stay far below 2^53. */
export const MAX_MONEY_MINOR_UNITS = 99_999_999_999_999;

export type MoneyParseResult =
  | { readonly ok: true; readonly money: Money }
  | { readonly ok: false; readonly reason: string };

/**
 * Converts a JSON number into minor units using its shortest decimal form
 * (`String(19.99)` is "19.99"), so no binary floating-point product is ever rounded.
 */
export function parseMoney(value: number): MoneyParseResult {
  if (!Number.isFinite(value)) {
    return { ok: false, reason: 'must be a finite number' };
  }
  if (value < 0) {
    return { ok: false, reason: 'must be greater than or equal to 0' };
  }

  const text = String(value);
  if (text.includes('e')) {
    // Shortest forms use an exponent only below 1e-6 or from 1e21 up: too precise or too large.
    return value < 1
      ? { ok: false, reason: 'must have at most two decimal places' }
      : { ok: false, reason: `must be less than or equal to ${formatMinorUnits(MAX_MONEY_MINOR_UNITS)}` };
  }

  const [whole = '0', fraction = ''] = text.split('.');
  if (fraction.length > 2) {
    return { ok: false, reason: 'must have at most two decimal places' };
  }

  const minorUnits = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  if (minorUnits > MAX_MONEY_MINOR_UNITS) {
    return { ok: false, reason: `must be less than or equal to ${formatMinorUnits(MAX_MONEY_MINOR_UNITS)}` };
  }
  return { ok: true, money: { minorUnits } };
}

/** Returns the JSON number for an amount; `1999` minor units become `19.99`. */
export function moneyToNumber(money: Money): number {
  return Number(formatMinorUnits(money.minorUnits));
}

function formatMinorUnits(minorUnits: number): string {
  const whole = Math.trunc(minorUnits / 100);
  const fraction = String(minorUnits % 100).padStart(2, '0');
  return `${whole}.${fraction}`;
}
