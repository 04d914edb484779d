/**
 * Tamper evidence for the aggregate streams. Every event of a `user-`, `product-` or `order-`
 * stream carries in its metadata `hash`, the hex SHA-256 of the canonical JSON (RFC 8785) of
 *
 *   { stream, revision, type, data, metadata, previous_hash }
 *
 * where `revision` is a JSON number, `metadata` is the event's metadata without `hash` and
 * `previous_hash`, and `previous_hash` is the hash of the stream's previous event (null at
 * revision 0), also stored in the metadata. Changing, removing or reordering a stored event
 * therefore breaks the chain at that revision. Removing the newest events of a stream leaves a
 * valid shorter chain, which this cannot detect.
 */
import { createHash } from 'node:crypto';
import type { JsonObject, NewEvent, RecordedEvent } from '../ports/EventStore';
import { canonicalJson } from './canonicalJson';

/** Streams whose events are chained. Helper streams (`ids-`, `unique_…-`, `checkpoints-`) are not. */
export const CHAINED_STREAM_PREFIXES = ['user-', 'product-', 'order-'] as const;

/** The parts of an event that its hash covers. */
export type ChainedEvent = {
  readonly streamId: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
};

export type ChainBreakReason =
  /** The event at this place of the stream has another revision: an event was removed or moved. */
  | 'unexpected_revision'
  /** The metadata has no `hash` string. */
  | 'missing_hash'
  /** The metadata has no `previous_hash` (a string, or null at revision 0). */
  | 'missing_previous_hash'
  /** `previous_hash` is not the hash of the stream's previous event. */
  | 'previous_hash_mismatch'
  /** The stored `hash` does not match the event's content. */
  | 'hash_mismatch';

/** The first link of a stream's chain that does not verify. */
export type ChainBreak = {
  /** The revision at which the chain breaks: the place of the first bad event in the stream. */
  readonly revision: bigint;
  readonly reason: ChainBreakReason;
  /** The value verification computed: a hash, or a revision for `unexpected_revision`. */
  readonly expected: string | null;
  /** The value the store contains there, or null when the field is missing. */
  readonly actual: string | null;
};

export function isChainedStream(streamId: string): boolean {
  return CHAINED_STREAM_PREFIXES.some((prefix) => streamId.startsWith(prefix));
}

/** Computes the hash of one event given the hash of the stream's previous event (null at revision 0). */
export function computeHash(event: ChainedEvent, previousHash: string | null): string {
  const content = {
    stream: event.streamId,
    revision: toJsonRevision(event.revision),
    type: event.type,
    data: event.data,
    metadata: withoutHashFields(event.metadata),
    previous_hash: previousHash,
  };
  return createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex');
}

/**
 * Adds `previous_hash` and `hash` to the metadata of events about to be appended at
 * `firstRevision` and on. `previousHash` is the hash of the stream's last stored event, or
 * null when the stream is new.
 */
export function chainNewEvents(
  streamId: string,
  firstRevision: bigint,
  previousHash: string | null,
  events: readonly NewEvent[],
): NewEvent[] {
  let previous = previousHash;
  return events.map((event, index) => {
    const metadata = { ...withoutHashFields(event.metadata), previous_hash: previous };
    const hash = computeHash({ streamId, revision: firstRevision + BigInt(index), type: event.type, data: event.data, metadata }, previous);
    previous = hash;
    return { ...event, metadata: { ...metadata, hash } };
  });
}

/**
 * Returns the stored hash of a stream's last event, to chain the next append to. An event
 * written before chaining existed has none, so the next event links to null, and
 * verification reports the unhashed event as `missing_hash`.
 */
export function storedHash(event: RecordedEvent | undefined): string | null {
  const hash = event?.metadata.hash;
  return typeof hash === 'string' ? hash : null;
}

/**
 * Checks one stream's events in order, one at a time, so that a whole log can be verified
 * without holding a stream in memory. After the first break it reports nothing more.
 */
export class ChainVerifier {
  private nextRevision = 0n;
  private previousHash: string | null = null;
  private broken = false;

  /** Checks the stream's next event; returns the break if the chain breaks here. */
  check(event: ChainedEvent): ChainBreak | undefined {
    if (this.broken) return undefined;

    const found = this.findBreak(event);
    if (found !== undefined) {
      this.broken = true;
      return found;
    }

    this.previousHash = event.metadata.hash as string;
    this.nextRevision += 1n;
    return undefined;
  }

  private findBreak(event: ChainedEvent): ChainBreak | undefined {
    const revision = this.nextRevision;
    const link = (reason: ChainBreakReason, expected: string | null, actual: unknown): ChainBreak => ({
      revision,
      reason,
      expected,
      actual: typeof actual === 'string' ? actual : null,
    });

    if (event.revision !== revision) return link('unexpected_revision', revision.toString(), event.revision.toString());

    const { hash, previous_hash: previousHash } = event.metadata;
    const expectedHash = computeHash(event, this.previousHash);
    if (typeof hash !== 'string') return link('missing_hash', expectedHash, undefined);
    if (previousHash !== null && typeof previousHash !== 'string') return link('missing_previous_hash', this.previousHash, undefined);
    if (previousHash !== this.previousHash) return link('previous_hash_mismatch', this.previousHash, previousHash);
    if (hash !== expectedHash) return link('hash_mismatch', expectedHash, hash);
    return undefined;
  }
}

/** Verifies a whole stream, read from revision 0 in order; returns its first broken link, or undefined when the chain holds. */
export function verifyChain(events: readonly ChainedEvent[]): ChainBreak | undefined {
  const verifier = new ChainVerifier();
  for (const event of events) {
    const found = verifier.check(event);
    if (found !== undefined) return found;
  }
  return undefined;
}

function withoutHashFields(metadata: JsonObject): JsonObject {
  const { hash: _hash, previous_hash: _previousHash, ...rest } = metadata;
  return rest;
}

/** Stream revisions stay far below 2^53 in practice; one past it would hash an inexact number, so it is rejected. */
function toJsonRevision(revision: bigint): number {
  if (revision < 0n || revision > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`revision ${revision} cannot be hashed: it must be from 0 to 2^53 - 1`);
  }
  return Number(revision);
}
