import { execFileSync } from 'node:child_process';
import { canonicalJson } from '../../../src/application/audit/canonicalJson';
import {
  chainNewEvents,
  computeHash,
  isChainedStream,
  verifyChain,
  type ChainBreakReason,
  type ChainedEvent,
} from '../../../src/application/audit/hashChain';
import type { NewEvent } from '../../../src/application/ports/EventStore';

const STREAM = 'order-7';
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Builds a stream of three events as the command path writes them: created, then two status changes. */
function chainedStream(): ChainedEvent[] {
  const metadata = (index: number) => ({
    correlation_id: `request-${index}`,
    causation_id: `command-${index}`,
    occurred_at: `2026-03-01T09:0${index}:00.000Z`,
  });
  const newEvents: NewEvent[] = [
    {
      id: 'event-0',
      type: 'OrderCreated',
      data: { order_id: 7, customer_id: 1, total_amount: 42.5, status: 'pending', created_at: '2026-03-01T09:00:00.000Z' },
      metadata: metadata(0),
    },
    { id: 'event-1', type: 'OrderStatusChanged', data: { order_id: 7, from: 'pending', to: 'processed', changed_at: 'x' }, metadata: metadata(1) },
    { id: 'event-2', type: 'OrderStatusChanged', data: { order_id: 7, from: 'processed', to: 'shipped', changed_at: 'y' }, metadata: metadata(2) },
  ];
  return chainNewEvents(STREAM, 0n, null, newEvents).map((event, index) => ({ ...event, streamId: STREAM, revision: BigInt(index) }));
}

function withEvent(events: ChainedEvent[], index: number, change: (event: ChainedEvent) => ChainedEvent): ChainedEvent[] {
  return events.map((event, position) => (position === index ? change(event) : event));
}

describe('computeHash', () => {
  const event: ChainedEvent = {
    streamId: STREAM,
    revision: 0n,
    type: 'OrderCreated',
    data: { order_id: 7, total_amount: 42.5, nested: { b: 1, a: [1, 'two', null] } },
    metadata: { correlation_id: 'request-1', occurred_at: '2026-03-01T09:00:00.000Z' },
  };

  it('is a hex SHA-256 and deterministic', () => {
    expect(computeHash(event, null)).toMatch(HEX_SHA256);
    expect(computeHash(event, null)).toBe(computeHash({ ...event }, null));
  });

  it('ignores key order', () => {
    const reordered: ChainedEvent = {
      metadata: { occurred_at: '2026-03-01T09:00:00.000Z', correlation_id: 'request-1' },
      data: { nested: { a: [1, 'two', null], b: 1 }, total_amount: 42.5, order_id: 7 },
      type: 'OrderCreated',
      revision: 0n,
      streamId: STREAM,
    };

    expect(computeHash(reordered, null)).toBe(computeHash(event, null));
  });

  it('leaves the hash fields out of the metadata', () => {
    const withHashFields = { ...event, metadata: { ...event.metadata, hash: 'abc', previous_hash: 'def' } };

    expect(computeHash(withHashFields, null)).toBe(computeHash(event, null));
  });

  it('covers the previous hash', () => {
    expect(computeHash(event, 'a'.repeat(64))).not.toBe(computeHash(event, null));
  });

  it('matches the documented content', () => {
    const content = canonicalJson({
      stream: STREAM,
      revision: 0,
      type: 'OrderCreated',
      data: event.data,
      metadata: event.metadata,
      previous_hash: null,
    });
    const expected = execFileSync('sha256sum', { input: content }).toString().split(' ')[0];

    expect(computeHash(event, null)).toBe(expected);
  });
});

describe('chainNewEvents', () => {
  it('links each event to the previous one', () => {
    const events = chainedStream();

    expect(events[0]?.metadata.previous_hash).toBeNull();
    expect(events[0]?.metadata.hash).toMatch(HEX_SHA256);
    expect(events[1]?.metadata.previous_hash).toBe(events[0]?.metadata.hash);
    expect(events[2]?.metadata.previous_hash).toBe(events[1]?.metadata.hash);
  });

  it('continues a stored chain', () => {
    const stored = chainedStream();
    const [first, second, third] = stored as [ChainedEvent, ChainedEvent, ChainedEvent];
    const appended = chainNewEvents(STREAM, 2n, second.metadata.hash as string, [
      { id: 'event-2', type: third.type, data: third.data, metadata: { ...third.metadata, hash: 'stale', previous_hash: 'stale' } },
    ]);

    expect(appended[0]?.metadata).toEqual(third.metadata);
    expect(verifyChain([first, second, { ...third, metadata: appended[0]?.metadata ?? {} }])).toBeUndefined();
  });
});

describe('verifyChain', () => {
  it('accepts an intact chain', () => {
    expect(verifyChain(chainedStream())).toBeUndefined();
  });

  it('accepts an empty stream', () => {
    expect(verifyChain([])).toBeUndefined();
  });

  const fieldChanges: ReadonlyArray<[string, (event: ChainedEvent) => ChainedEvent, ChainBreakReason]> = [
    ['stream', (event) => ({ ...event, streamId: 'order-8' }), 'hash_mismatch'],
    ['type', (event) => ({ ...event, type: 'OrderCancelled' }), 'hash_mismatch'],
    ['data number as string', (event) => ({ ...event, data: { ...event.data, order_id: '7' } }), 'hash_mismatch'],
    ['data number', (event) => ({ ...event, data: { ...event.data, order_id: 8 } }), 'hash_mismatch'],
    ['data field added', (event) => ({ ...event, data: { ...event.data, note: 'x' } }), 'hash_mismatch'],
    ['data field removed', (event) => ({ ...event, data: { ...event.data, order_id: undefined } }), 'hash_mismatch'],
    ['correlation_id', (event) => ({ ...event, metadata: { ...event.metadata, correlation_id: 'forged' } }), 'hash_mismatch'],
    ['occurred_at', (event) => ({ ...event, metadata: { ...event.metadata, occurred_at: '2026-03-01T08:00:00.000Z' } }), 'hash_mismatch'],
    ['metadata field added', (event) => ({ ...event, metadata: { ...event.metadata, actor: 'x' } }), 'hash_mismatch'],
    ['hash', (event) => ({ ...event, metadata: { ...event.metadata, hash: 'f'.repeat(64) } }), 'hash_mismatch'],
    ['hash removed', (event) => ({ ...event, metadata: { ...event.metadata, hash: undefined } }), 'missing_hash'],
    ['previous_hash', (event) => ({ ...event, metadata: { ...event.metadata, previous_hash: 'f'.repeat(64) } }), 'previous_hash_mismatch'],
    ['previous_hash removed', (event) => ({ ...event, metadata: { ...event.metadata, previous_hash: undefined } }), 'missing_previous_hash'],
    ['revision', (event) => ({ ...event, revision: 5n }), 'unexpected_revision'],
  ];

  it.each(fieldChanges)('detects a changed %s at its revision', (_field, change, reason) => {
    for (const index of [0, 1, 2]) {
      const found = verifyChain(withEvent(chainedStream(), index, change));

      expect(found?.revision).toBe(BigInt(index));
      expect(found?.reason).toBe(reason);
    }
  });

  it('reports expected and stored hash', () => {
    const events = chainedStream();
    const tampered = withEvent(events, 1, (event) => ({ ...event, data: { ...event.data, to: 'cancelled' } }));

    const found = verifyChain(tampered);

    expect(found?.actual).toBe(events[1]?.metadata.hash);
    expect(found?.expected).toMatch(HEX_SHA256);
    expect(found?.expected).not.toBe(found?.actual);
  });

  it('detects a removed event', () => {
    const [first, , third] = chainedStream() as [ChainedEvent, ChainedEvent, ChainedEvent];

    expect(verifyChain([first, third])).toEqual({ revision: 1n, reason: 'unexpected_revision', expected: '1', actual: '2' });
  });

  it('detects a removed event with renumbered revisions', () => {
    const [first, , third] = chainedStream() as [ChainedEvent, ChainedEvent, ChainedEvent];

    const found = verifyChain([first, { ...third, revision: 1n }]);

    expect(found?.revision).toBe(1n);
    expect(found?.reason).toBe('previous_hash_mismatch');
  });

  it('detects a removed first event', () => {
    const [, second, third] = chainedStream() as [ChainedEvent, ChainedEvent, ChainedEvent];

    expect(verifyChain([second, third])?.revision).toBe(0n);
  });

  it('detects a reordered event', () => {
    const [first, second, third] = chainedStream() as [ChainedEvent, ChainedEvent, ChainedEvent];

    expect(verifyChain([first, third, second])).toEqual({ revision: 1n, reason: 'unexpected_revision', expected: '1', actual: '2' });
  });

  it('detects a reordered event with swapped revisions', () => {
    const [first, second, third] = chainedStream() as [ChainedEvent, ChainedEvent, ChainedEvent];

    const found = verifyChain([first, { ...third, revision: 1n }, { ...second, revision: 2n }]);

    expect(found?.revision).toBe(1n);
    expect(found?.reason).toBe('previous_hash_mismatch');
  });

  it('detects a rehashed event by the next link', () => {
    const events = chainedStream();
    const forged = withEvent(events, 1, (event) => {
      const data = { ...event.data, to: 'cancelled' };
      return { ...event, data, metadata: { ...event.metadata, hash: computeHash({ ...event, data }, events[0]?.metadata.hash as string) } };
    });

    expect(verifyChain(forged)).toMatchObject({ revision: 2n, reason: 'previous_hash_mismatch' });
  });
});

describe('isChainedStream', () => {
  it.each(['user-1', 'product-2', 'order-3'])('chains %s', (streamId) => {
    expect(isChainedStream(streamId)).toBe(true);
  });

  it.each(['ids-order', 'unique_email-a@example.com', 'unique_username-alice', 'checkpoints-outbox_relay'])('leaves out %s', (streamId) => {
    expect(isChainedStream(streamId)).toBe(false);
  });
});

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units', () => {
    const value = { '\u20ac': 'euro', '\r': 'cr', '\ufb33': 'hebrew', '1': 'one', '\ud83d\ude00': 'emoji', '\u0080': 'control', '\u00f6': 'o' };

    expect(Object.keys(JSON.parse(canonicalJson(value)))).toEqual(['1', '\r', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
    expect(canonicalJson(value).startsWith('{"\\r":"cr","1":"one"')).toBe(true);
  });

  it('writes numbers as ECMAScript does', () => {
    expect(canonicalJson([0, -0, 1e21, 1e-7, 42.5, 19.99, 333333333.3333333, -1.5e-323])).toBe(
      '[0,0,1e+21,1e-7,42.5,19.99,333333333.3333333,-1.5e-323]',
    );
  });

  it('rejects values JSON cannot hold', () => {
    expect(() => canonicalJson({ total: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ total: Infinity })).toThrow(TypeError);
    expect(() => canonicalJson({ id: 1n })).toThrow(TypeError);
    expect(() => canonicalJson('\ud83d')).toThrow(TypeError);
  });
});
