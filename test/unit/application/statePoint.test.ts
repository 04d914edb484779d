import { parseAsOf, parseRevision } from '../../../src/application/audit/statePoint';

describe('parseAsOf', () => {
  it.each([
    ['2026-03-01T09:30:00Z', '2026-03-01T09:30:00.000Z'],
    ['2026-03-01T09:30Z', '2026-03-01T09:30:00.000Z'],
    ['2026-03-01T09:30:00.123Z', '2026-03-01T09:30:00.123Z'],
    ['2026-03-01T09:30:00.1Z', '2026-03-01T09:30:00.100Z'],
    ['2026-03-01T09:30:00.123999999Z', '2026-03-01T09:30:00.123Z'],
    ['2026-03-01T10:30:00+01:00', '2026-03-01T09:30:00.000Z'],
    ['2026-03-01T04:00:00-05:30', '2026-03-01T09:30:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
  ])('reads %s', (text, utc) => {
    expect(parseAsOf(text)).toEqual({ ok: true, value: { kind: 'as_of', asOf: text, asOfMs: Date.parse(utc) } });
  });

  it.each([
    '',
    '2026-03-01',
    '2026-03-01T09:30:00',
    '2026-03-01 09:30:00Z',
    '2026-03-01T09:30:00 01:00',
    '2026-02-29T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-03-01T24:00:00Z',
    '2026-03-01T09:60:00Z',
    '2026-03-01T09:30:60Z',
    '2026-03-01T09:30:00+24:00',
    'yesterday',
    '1772357400000',
  ])('rejects %j', (text) => {
    expect(parseAsOf(text)).toEqual({ ok: false, reason: expect.stringMatching(/ISO-8601/) });
  });
});

describe('parseRevision', () => {
  it.each([
    ['0', 0n],
    ['7', 7n],
    ['9223372036854775807', 9223372036854775807n],
  ])('reads %s', (text, revision) => {
    expect(parseRevision(text)).toEqual({ ok: true, value: { kind: 'revision', revision } });
  });

  it.each(['', '-1', '1.5', '01', '+1', '1e3', 'abc', ' 1', '12345678901234567890'])('rejects %j', (text) => {
    expect(parseRevision(text)).toEqual({ ok: false, reason: expect.stringMatching(/non-negative integer/) });
  });
});
