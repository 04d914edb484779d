/**
 * The test server's in-memory storage: one global log (`$all`) and a per-stream index, with
 * EventStoreDB's revision, deletion and position rules. It outlives the gRPC server so a
 * stopped and restarted server keeps its data.
 */
import { randomUUID } from 'node:crypto';

export type ProposedEvent = {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
};

export type StoredEvent = ProposedEvent & {
  readonly streamName: string;
  readonly revision: bigint;
  /** Commit and prepare position alike, as EventStoreDB 20+ reports them for events it writes. */
  readonly position: bigint;
  /** .NET ticks (100 ns) since the Unix epoch, the unit of the `created` metadata entry. */
  readonly createdTicks: bigint;
};

export type Expectation =
  | { readonly kind: 'any' }
  | { readonly kind: 'no_stream' }
  | { readonly kind: 'stream_exists' }
  | { readonly kind: 'revision'; readonly revision: bigint };

/** A rejected write: `currentRevision` is undefined when the stream never had an event. */
export type WriteRejection =
  | { readonly kind: 'wrong_expected_version'; readonly currentRevision: bigint | undefined }
  | { readonly kind: 'stream_deleted' };

export type AppendOutcome =
  | { readonly kind: 'success'; readonly currentRevision: bigint | undefined; readonly position: bigint | undefined }
  | WriteRejection;

export type DeleteOutcome = { readonly kind: 'success'; readonly position: bigint } | WriteRejection;

export type StreamLookup =
  | { readonly kind: 'found'; readonly events: readonly StoredEvent[] }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'deleted' };

type StreamState = {
  lastRevision: bigint;
  /** Revisions below this one were soft-deleted and no longer read. */
  truncateBefore: bigint;
  tombstoned: boolean;
  readonly events: StoredEvent[];
};

/** EventStoreDB writes a tombstone as an event at revision `long.MaxValue`. */
const TOMBSTONE_REVISION = 2n ** 63n - 1n;
const TICKS_PER_MILLISECOND = 10_000n;
const SYSTEM_SEED: readonly (readonly [string, string])[] = [
  ['$settings', '$settings'],
  ['$users', '$User'],
  ['$user-admin', '$UserCreated'],
  ['$projections-$all', '$ProjectionsInitialized'],
  ['$scavenges', '$scavengeIndexInitialized'],
];

export class EventLog {
  private readonly all: StoredEvent[] = [];
  private readonly streams = new Map<string, StreamState>();
  private readonly appendListeners = new Set<() => void>();
  /** Starts above zero, and grows by each event's size, like the byte offsets of a real log. */
  private nextPosition = 1_000n;

  constructor() {
    for (const [streamName, type] of SYSTEM_SEED) {
      this.appendSystemEvent(streamName, type, {});
    }
  }

  get length(): number {
    return this.all.length;
  }

  eventAt(index: number): StoredEvent | undefined {
    return this.all[index];
  }

  /** Index of the first event at or after `position` in the global log. */
  indexAtOrAfter(position: bigint): number {
    let low = 0;
    let high = this.all.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.all[middle]?.position ?? 0n) < position) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }

  /** Registers a callback run after every write; returns the function that removes it. */
  onAppend(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  readStream(streamName: string): StreamLookup {
    const state = this.streams.get(streamName);
    if (state?.tombstoned) {
      return { kind: 'deleted' };
    }

    const events = state?.events.filter((event) => event.revision >= state.truncateBefore) ?? [];
    return events.length === 0 ? { kind: 'not_found' } : { kind: 'found', events };
  }

  append(streamName: string, expectation: Expectation, events: readonly ProposedEvent[]): AppendOutcome {
    const state = this.streams.get(streamName);
    const rejection = checkExpectation(state, expectation);
    if (rejection !== undefined) {
      return rejection;
    }

    if (events.length === 0) {
      return { kind: 'success', currentRevision: currentRevisionOf(state), position: undefined };
    }

    let last: StoredEvent | undefined;
    for (const event of events) {
      last = this.write(streamName, event);
    }
    this.notify();
    return { kind: 'success', currentRevision: last?.revision, position: last?.position };
  }

  /** Soft delete: the stream reads as not found, and a later append continues its numbering. */
  softDelete(streamName: string, expectation: Expectation): DeleteOutcome {
    const state = this.streams.get(streamName);
    const rejection = checkExpectation(state, expectation);
    if (rejection !== undefined) {
      return rejection;
    }

    const truncateBefore = (state?.lastRevision ?? -1n) + 1n;
    if (state !== undefined) {
      state.truncateBefore = truncateBefore;
    }
    const metadata = this.appendSystemEvent(`$$${streamName}`, '$metadata', { $tb: Number(truncateBefore) });
    return { kind: 'success', position: metadata.position };
  }

  /** Hard delete: the stream rejects every later read and write. */
  tombstone(streamName: string, expectation: Expectation): DeleteOutcome {
    const state = this.streams.get(streamName);
    const rejection = checkExpectation(state, expectation);
    if (rejection !== undefined) {
      return rejection;
    }

    const event = this.write(
      streamName,
      { id: randomUUID(), type: '$streamDeleted', contentType: 'application/octet-stream', data: new Uint8Array(), customMetadata: new Uint8Array() },
      TOMBSTONE_REVISION,
    );
    this.stateOf(streamName).tombstoned = true;
    this.notify();
    return { kind: 'success', position: event.position };
  }

  /** Writes an event the way the server itself would, such as stream metadata or seed data. */
  appendSystemEvent(streamName: string, type: string, data: object): StoredEvent {
    const body = Buffer.from(JSON.stringify(data), 'utf8');
    const event = this.write(streamName, {
      id: randomUUID(),
      type,
      contentType: 'application/json',
      data: Uint8Array.from(body),
      customMetadata: new Uint8Array(),
    });
    this.notify();
    return event;
  }

  private write(streamName: string, proposed: ProposedEvent, revision?: bigint): StoredEvent {
    const state = this.stateOf(streamName);
    const stored: StoredEvent = {
      ...proposed,
      streamName,
      revision: revision ?? state.lastRevision + 1n,
      position: this.nextPosition,
      createdTicks: BigInt(Date.now()) * TICKS_PER_MILLISECOND,
    };

    this.nextPosition += 128n + BigInt(proposed.data.length + proposed.customMetadata.length + streamName.length);
    if (revision === undefined) {
      state.lastRevision = stored.revision;
    }
    state.events.push(stored);
    this.all.push(stored);
    return stored;
  }

  private stateOf(streamName: string): StreamState {
    let state = this.streams.get(streamName);
    if (state === undefined) {
      state = { lastRevision: -1n, truncateBefore: 0n, tombstoned: false, events: [] };
      this.streams.set(streamName, state);
    }
    return state;
  }

  private notify(): void {
    for (const listener of [...this.appendListeners]) {
      listener();
    }
  }
}

function currentRevisionOf(state: StreamState | undefined): bigint | undefined {
  return state === undefined || state.lastRevision < 0n ? undefined : state.lastRevision;
}

/** Checks an expectation. A soft-deleted stream still counts as existing at its last revision, as in EventStoreDB. */
function checkExpectation(state: StreamState | undefined, expectation: Expectation): WriteRejection | undefined {
  if (state?.tombstoned) {
    return { kind: 'stream_deleted' };
  }

  const current = currentRevisionOf(state);
  const satisfied =
    expectation.kind === 'any' ||
    (expectation.kind === 'no_stream' && current === undefined) ||
    (expectation.kind === 'stream_exists' && current !== undefined) ||
    (expectation.kind === 'revision' && current === expectation.revision);
  return satisfied ? undefined : { kind: 'wrong_expected_version', currentRevision: current };
}
