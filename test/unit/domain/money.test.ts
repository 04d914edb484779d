import { MAX_MONEY_MINOR_UNITS, moneyToNumber, parseMoney } from '../../../src/domain/shared/money';

const TWO_DECIMALS = 'must have at most two decimal places';
const TOO_LARGE = 'must be less than or equal to 999999999999.99';
const NEGATIVE = 'must be greater than or equal to 0';
const NOT_FINITE = 'must be a finite number';

function minorUnitsOf(value: number): number {
  const result = parseMoney(value);
  if (!result.ok) throw new Error(`expected ${value} to be accepted, got: ${result.reason}`);
  return result.money.minorUnits;
}

describe('parseMoney', () => {
  it.each([
    [0, 0],
    [19.99, 1999],
    [100, 10000],
    [0.1, 10],
    [0.01, 1],
    [1.5, 150],
    [999999999999.99, MAX_MONEY_MINOR_UNITS],
  ])('accepts %p as %p minor units', (value, expected) => {
    const minorUnits = minorUnitsOf(value);

    expect(minorUnits).toBe(expected);
    expect(Number.isInteger(minorUnits)).toBe(true);
  });

  it('accepts -0 as 0', () => {
    const minorUnits = minorUnitsOf(-0);

    // toBe uses Object.is, so a -0 leaking through would fail here.
    expect(minorUnits).toBe(0);
    expect(Object.is(moneyToNumber({ minorUnits }), 0)).toBe(true);
  });

  it.each([
    [1e-7, TWO_DECIMALS],
    [0.001, TWO_DECIMALS],
    [19.999, TWO_DECIMALS],
    [-0.004, NEGATIVE],
    [-1, NEGATIVE],
    [Infinity, NOT_FINITE],
    [-Infinity, NOT_FINITE],
    [NaN, NOT_FINITE],
    [1e21, TOO_LARGE],
    [1e20, TOO_LARGE],
    [1_000_000_000_000, TOO_LARGE],
    // The next double above the maximum has more than two decimals.
    [999999999999.9901, TWO_DECIMALS],
  ])('rejects %p', (value, reason) => {
    expect(parseMoney(value)).toEqual({ ok: false, reason });
  });

  it('maximum is 999999999999.99', () => {
    expect(MAX_MONEY_MINOR_UNITS).toBe(99_999_999_999_999);
    expect(Number.isSafeInteger(MAX_MONEY_MINOR_UNITS)).toBe(true);
  });
});

describe('moneyToNumber', () => {
  it.each([
    [0, 0],
    [1, 0.01],
    [10, 0.1],
    [1999, 19.99],
    [10000, 100],
    [MAX_MONEY_MINOR_UNITS, 999999999999.99],
  ])('%p minor units become %p', (minorUnits, expected) => {
    expect(moneyToNumber({ minorUnits })).toBe(expected);
  });

  it('round trips 19.99', () => {
    expect(moneyToNumber({ minorUnits: minorUnitsOf(19.99) })).toBe(19.99);
  });

  it('sums without float error', () => {
    expect(0.1 + 0.2).toBe(0.30000000000000004);
    expect(moneyToNumber({ minorUnits: minorUnitsOf(0.1) + minorUnitsOf(0.2) })).toBe(0.3);
    expect(moneyToNumber({ minorUnits: minorUnitsOf(1.1) + minorUnitsOf(2.2) })).toBe(3.3);
    expect(moneyToNumber({ minorUnits: minorUnitsOf(19.99) * 3 })).toBe(59.97);
  });

  it('round trips every cent to 1000', () => {
    // Decimal literals like "12.34" parse to the nearest double, which is what JSON clients send.
    const failures: string[] = [];
    for (let minorUnits = 0; minorUnits <= 100_000; minorUnits += 1) {
      const value = Number(`${Math.trunc(minorUnits / 100)}.${String(minorUnits % 100).padStart(2, '0')}`);
      if (minorUnitsOf(value) !== minorUnits || moneyToNumber({ minorUnits }) !== value) failures.push(String(value));
    }

    expect(failures).toEqual([]);
  });

  it('round trips near the maximum', () => {
    const failures: number[] = [];
    for (let minorUnits = MAX_MONEY_MINOR_UNITS - 1000; minorUnits <= MAX_MONEY_MINOR_UNITS; minorUnits += 1) {
      if (minorUnitsOf(moneyToNumber({ minorUnits })) !== minorUnits) failures.push(minorUnits);
    }

    expect(failures).toEqual([]);
  });
});
