import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  START,
  StreamDeletedError,
  StreamNotFoundError,
  streamNameFilter,
} from '@eventstore/db-client';
import type { AllStreamResolvedEvent, AllStreamSubscription, Position, ResolvedEvent } from '@eventstore/db-client';

import { EventStoreUnavailableError } from '../../application/ports/EventStore';
import type {
  AllSubscription,
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeToAllOptions,
} from '../../application/ports/EventStore';
import type { Logger } from '../../application/ports/Logger';
import {
  fromResolvedEvent,
  isSystemEvent,
  redactConnectionString,
  toAppendExpectedRevision,
  toEventData,
  toPortError,
  toPosition,
} from './esdbMapping';

export type EsdbEventStoreOptions = {
  /** For example `esdb://127.0.0.1:2113?tls=false`. */
  readonly connectionString: string;
  readonly logger: Logger;
  /**
   * Maximum wait in milliseconds for an append to complete, or for the next event of a read,
   * before the call fails with `EventStoreUnavailableError`. Default 5000.
   */
  readonly requestTimeoutMs?: number;
};

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** Events read per request when `readAll` skips the server's own events. */
const PAGE_SIZE = 500;
/** Newest events that `headPosition` searches for one that is not the server's own. */
const HEAD_SEARCH_WINDOW = 100;
const MAX_UINT64 = 2n ** 64n - 1n;

/**
 * The event store port on EventStoreDB 22.6 or later, through `@eventstore/db-client` 6.x.
 * Reads of `$all` (`readAll`, `headPosition`, `subscribeToAll`) leave out the server's own
 * events (see `isSystemEvent`), so callers see the same log as on the embedded store.
 */
export class EsdbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly subscriptions = new Set<EsdbAllSubscription>();
  private closed = false;

  constructor({ connectionString, logger, requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS }: EsdbEventStoreOptions) {
    if (!Number.isSafeInteger(requestTimeoutMs) || requestTimeoutMs <= 0) {
      throw new RangeError(`requestTimeoutMs must be a positive integer, got ${requestTimeoutMs}`);
    }

    this.client = EventStoreDBClient.connectionString(connectionString);
    this.logger = logger.child({ component: 'EsdbEventStore' });
    this.timeoutMs = requestTimeoutMs;
    this.logger.info({ connectionString: redactConnectionString(connectionString) }, 'event store client created');
  }

  async appendToStream(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();

    try {
      // NOTE: the client asks the server for its features before the first append of each
      // channel, without a deadline, and caches the pending answer. A server that accepts
      // connections but never replies keeps every append timing out until the channel fails.
      const append = this.client.appendToStream(streamId, events.map(toEventData), {
        expectedRevision: toAppendExpectedRevision(expected),
        deadline: this.timeoutMs,
      });
      const result = await withTimeout(append, this.timeoutMs, `append to ${streamId}`);
      if (result.position === undefined) {
        return await this.currentAppendResult(streamId);
      }
      return { nextExpectedRevision: result.nextExpectedRevision, position: result.position.commit };
    } catch (error) {
      throw toPortError(error, 'append', { streamId, expected });
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const { direction = 'forwards', fromRevision, maxCount } = options;
    validateMaxCount(maxCount);
    if (fromRevision !== undefined && (fromRevision < 0n || fromRevision > MAX_UINT64)) {
      throw new RangeError(`fromRevision must be between 0 and 2^64 - 1, got ${fromRevision}`);
    }
    if (maxCount === 0) {
      return [];
    }

    const backwards = direction === 'backwards';
    const read = this.client.readStream(streamId, {
      direction: backwards ? BACKWARDS : FORWARDS,
      fromRevision: fromRevision ?? (backwards ? END : START),
      maxCount: maxCount ?? Number.MAX_SAFE_INTEGER,
    });
    try {
      const resolved = await collect(read, this.timeoutMs, `read of ${streamId}`);
      return resolved.map(fromResolvedEvent);
    } catch (error) {
      // A tombstoned stream can never hold events again, so it reads like a missing one.
      if (error instanceof StreamNotFoundError || error instanceof StreamDeletedError) {
        return [];
      }
      throw toPortError(error, 'read stream', { streamId });
    }
  }

  async readAll({ after, maxCount, streamPrefixes }: ReadAllOptions): Promise<RecordedEvent[]> {
    this.assertOpen();
    validateMaxCount(maxCount);
    validateAfter(after);

    const events: RecordedEvent[] = [];
    let cursor = after;
    while (events.length < maxCount) {
      // Reading $all forwards from a position includes the event at it, so ask for one more.
      const requested = Math.min(maxCount - events.length, PAGE_SIZE) + 1;
      const page = await this.readAllPage(cursor, FORWARDS, requested);
      for (const resolved of page) {
        const position = resolved.event?.position.commit;
        if (position === undefined || (cursor !== undefined && position <= cursor)) {
          continue;
        }
        cursor = position;
        const matchesPrefix = streamPrefixes === undefined || streamPrefixes.some((prefix) => resolved.event?.streamId.startsWith(prefix) === true);
        if (matchesPrefix && !isSystemEvent(resolved) && events.length < maxCount) {
          events.push(fromResolvedEvent(resolved));
        }
      }
      if (page.length < requested) {
        break;
      }
    }
    return events;
  }

  /**
   * Returns the position of the newest event that is not the server's own. EventStoreDB
   * writes system events all the time (statistics, and with projections enabled a link event
   * after every append), so the raw head of `$all` is usually one that filtered subscriptions
   * never deliver. NOTE: when the newest `HEAD_SEARCH_WINDOW` events are all system events, this
   * returns the newest of them instead of searching further.
   */
  async headPosition(): Promise<bigint | undefined> {
    this.assertOpen();

    const page = await this.readAllPage(undefined, BACKWARDS, HEAD_SEARCH_WINDOW);
    const newest = page.find((resolved) => !isSystemEvent(resolved)) ?? page[0];
    return newest?.event?.position.commit;
  }

  subscribeToAll({ after, streamPrefixes }: SubscribeToAllOptions): AllSubscription {
    this.assertOpen();
    validateAfter(after);
    if (streamPrefixes.length === 0) {
      throw new RangeError("streamPrefixes is empty, so nothing would be delivered; pass [''] for every stream");
    }

    // The server filters by stream name, so foreign and system streams never cross the
    // network; the server starts after `fromPosition`, excluding the event at it.
    const source = this.client.subscribeToAll({
      fromPosition: after === undefined ? START : toPosition(after),
      filter: streamNameFilter({ prefixes: [...streamPrefixes] }),
    });
    const subscription = new EsdbAllSubscription(source, after, this.logger, (closed) => this.subscriptions.delete(closed));
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;

    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.client.dispose();
    this.logger.info({}, 'event store client closed');
  }

  private async readAllPage(after: bigint | undefined, direction: typeof FORWARDS | typeof BACKWARDS, maxCount: number) {
    let fromPosition: Position | typeof START | typeof END = direction === FORWARDS ? START : END;
    if (after !== undefined) {
      fromPosition = toPosition(after);
    }

    const read = this.client.readAll({ direction, fromPosition, maxCount });
    try {
      return await collect(read, this.timeoutMs, 'read of $all');
    } catch (error) {
      throw toPortError(error, 'read all');
    }
  }

  /**
   * Completes an append of zero events. The server reports no position for it, and the client
   * reports a missing stream as revision 0, so the result comes from the stream's last event.
   * A stream that does not exist gives -1n (the revision before the first) and 0n (before the
   * log), as the embedded store does. NOTE: the stream is read after the server checked the
   * expectation, so an append made in between shows up here.
   */
  private async currentAppendResult(streamId: string): Promise<AppendResult> {
    const [last] = await this.readStream(streamId, { direction: 'backwards', maxCount: 1 });
    return last === undefined ? { nextExpectedRevision: -1n, position: 0n } : { nextExpectedRevision: last.revision, position: last.position };
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new EventStoreUnavailableError('event store client is closed');
    }
  }
}

const CLOSED = Symbol('closed');

/**
 * Adapts the client's catch-up subscription to the port: maps events, skips system events and
 * any event at or before `after`, maps errors, and makes `close()` end a pending `next()`.
 * When the server ends the call with status OK, the client ends its stream without an error.
 * The iteration then ends too, and the caller resubscribes from its checkpoint.
 */
class EsdbAllSubscription implements AllSubscription {
  private closed = false;
  private readonly closedSignal: Promise<typeof CLOSED>;
  private signalClosed: () => void = () => undefined;
  private readonly source: AsyncIterator<AllStreamResolvedEvent>;

  constructor(
    private readonly subscription: AllStreamSubscription,
    private readonly after: bigint | undefined,
    private readonly logger: Logger,
    private readonly onClosed: (subscription: EsdbAllSubscription) => void,
  ) {
    this.closedSignal = new Promise((resolve) => {
      this.signalClosed = () => resolve(CLOSED);
    });
    this.source = subscription[Symbol.asyncIterator]() as AsyncIterator<AllStreamResolvedEvent>;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    try {
      while (!this.closed) {
        const result = await this.nextFromSource();
        if (result === CLOSED) {
          return;
        }
        if (result.done === true) {
          this.logger.info({ after: this.after?.toString() }, 'event store subscription ended by the server');
          return;
        }

        const resolved = result.value;
        if (isSystemEvent(resolved)) {
          continue;
        }
        const event = fromResolvedEvent(resolved);
        if (this.after === undefined || event.position > this.after) {
          yield event;
        }
      }
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.signalClosed();

    await this.subscription.unsubscribe();
    this.subscription.destroy();
    this.onClosed(this);
  }

  private async nextFromSource(): Promise<IteratorResult<AllStreamResolvedEvent> | typeof CLOSED> {
    const next = this.source.next();
    try {
      return await Promise.race([next, this.closedSignal]);
    } catch (error) {
      if (this.closed) {
        return CLOSED;
      }
      const portError = toPortError(error, 'subscription to $all');
      this.logger.warn({ error: portError.message, after: this.after?.toString() }, 'event store subscription failed');
      throw portError;
    }
  }
}

/** Reads a whole result, failing when no event arrives within `timeoutMs` of the previous one. */
async function collect<Event extends ResolvedEvent | AllStreamResolvedEvent>(
  read: AsyncIterable<Event> & { cancel(): Promise<void> },
  timeoutMs: number,
  operation: string,
): Promise<Event[]> {
  const iterator = read[Symbol.asyncIterator]();
  const events: Event[] = [];
  try {
    for (;;) {
      const result = await withTimeout(iterator.next(), timeoutMs, operation);
      if (result.done === true) {
        return events;
      }
      events.push(result.value);
    }
  } catch (error) {
    void read.cancel();
    throw error;
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new EventStoreUnavailableError(`event store ${operation} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function validateMaxCount(maxCount: number | undefined): void {
  if (maxCount !== undefined && (!Number.isSafeInteger(maxCount) || maxCount < 0)) {
    throw new RangeError(`maxCount must be an integer of 0 or more, got ${maxCount}`);
  }
}

function validateAfter(after: bigint | undefined): void {
  if (after !== undefined && (after < 0n || after > MAX_UINT64)) {
    throw new RangeError(`after must be a position between 0 and 2^64 - 1, got ${after}`);
  }
}
