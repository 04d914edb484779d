/**
 * The event store port. Positions in the global log are `bigint` because EventStoreDB's are
 * 64-bit unsigned; they are never converted to JS numbers, and travel as decimal strings in JSON.
 */

/** The stream state an append expects: any state, no stream yet, some stream, or exactly this revision. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

export type JsonObject = { readonly [key: string]: unknown };

export type NewEvent = {
  readonly id: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
};

export type RecordedEvent = {
  readonly id: string;
  readonly streamId: string;
  readonly type: string;
  /** Zero-based index of the event inside its stream. */
  readonly revision: bigint;
  /** Place in the global log; strictly increasing in append order. */
  readonly position: bigint;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
  readonly recordedAt: Date;
};

export type AppendResult = {
  /** Revision of the last event written, to pass as the next expected revision. */
  readonly nextExpectedRevision: bigint;
  /** Global position of the last event written. */
  readonly position: bigint;
};

export type ReadStreamOptions = {
  /** Default 'forwards'. */
  readonly direction?: 'forwards' | 'backwards';
  /** First revision to read, inclusive. Default: the first event forwards, the last one backwards. */
  readonly fromRevision?: bigint;
  readonly maxCount?: number;
};

export type ReadAllOptions = {
  /** Read events strictly after this position; omitted means from the start of the log. */
  readonly after?: bigint;
  /** Events returned at most; with `streamPrefixes`, only events of those streams count. */
  readonly maxCount: number;
  /** Only streams whose names start with one of these prefixes; omitted means every stream. */
  readonly streamPrefixes?: readonly string[];
};

export type SubscribeToAllOptions = {
  /** Deliver events strictly after this position; omitted means from the start of the log. */
  readonly after?: bigint;
  /** Only streams whose names start with one of these prefixes are delivered. */
  readonly streamPrefixes: readonly string[];
};

/**
 * A catch-up subscription: yields stored events from the requested position, then live ones,
 * in log order. Iteration waits for the consumer, so a slow consumer holds back delivery
 * instead of growing a buffer. The iteration throws when the subscription fails and ends
 * when it is closed (or, for some servers, dropped); callers resubscribe from their checkpoint.
 */
export interface AllSubscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
}

export interface EventStore {
  /** Appends atomically and durably; throws `WrongExpectedRevisionError` when the expectation fails. */
  appendToStream(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;
  /** Returns the stream's events in order; a stream that does not exist reads as empty. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Position of the newest event in the log, or undefined for an empty log. */
  headPosition(): Promise<bigint | undefined>;
  subscribeToAll(options: SubscribeToAllOptions): AllSubscription;
  close(): Promise<void>;
}

export class WrongExpectedRevisionError extends Error {
  readonly code = 'concurrency_conflict';

  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | 'no_stream',
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/** The event store cannot be reached or did not respond; the operation may be retried later. */
export class EventStoreUnavailableError extends Error {
  readonly code = 'service_unavailable';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventStoreUnavailableError';
  }
}
