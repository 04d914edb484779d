/**
 * Streams.Read in its subscription form: a confirmation, the stored events after the start
 * point, a caught-up message, then live events as they are written. Subscriptions start after
 * the given position or revision. Filtered `$all` subscriptions also send checkpoints, at the
 * searched-event interval the client asked for, and when they catch up.
 */
import { randomUUID } from 'node:crypto';

import type { EventLog, StoredEvent } from './eventLog';
import { streamDeletedError } from './expectations';
import type { GrpcJs, StreamsPb } from './protocol';
import { readStreamName, streamsPb } from './protocol';
import type { EventFilter, ReadStats } from './readMessages';
import { readEventFilter, toCheckpointResponse, toEventResponse, wantsStructuredUuids, writeWithBackpressure } from './readMessages';

type ReadCall = GrpcJs.ServerWritableStream<StreamsPb.ReadReq, StreamsPb.ReadResp>;

/** The open subscriptions, so the server can end them with an OK status, as a server shutting down cleanly does. */
export class SubscriptionRegistry {
  private readonly enders = new Set<() => void>();

  register(end: () => void): () => void {
    this.enders.add(end);
    return () => this.enders.delete(end);
  }

  get size(): number {
    return this.enders.size;
  }

  endAll(): void {
    for (const end of [...this.enders]) {
      end();
    }
  }
}

type Cursor = {
  index: number;
  readonly accepts: (event: StoredEvent) => boolean;
  /** Set for a subscription to one stream. */
  readonly streamName?: string;
};

export async function runSubscription(
  call: ReadCall,
  log: EventLog,
  options: StreamsPb.ReadReq.Options,
  registry: SubscriptionRegistry,
  stats: ReadStats,
): Promise<void> {
  const write = (response: StreamsPb.ReadResp): Promise<boolean> => writeWithBackpressure(call, response, stats);
  const structured = wantsStructuredUuids(options);
  const filter: EventFilter = options.hasStream() ? { matches: () => true, checkpointInterval: undefined } : readEventFilter(options);
  const cursor = options.hasStream() ? streamCursor(log, options.getStream()) : allCursor(log, options.getAll());

  let ended = false;
  let wake: (() => void) | undefined;
  const unregister = registry.register(() => {
    ended = true;
    wake?.();
  });

  try {
    const confirmation = new streamsPb.ReadResp.SubscriptionConfirmation();
    confirmation.setSubscriptionId(randomUUID());
    let open = await write(new streamsPb.ReadResp().setConfirmation(confirmation));
    let searched = 0;
    let caughtUp = false;

    while (open && !ended) {
      const event = log.eventAt(cursor.index);
      if (event !== undefined) {
        cursor.index += 1;
        searched += 1;
        open = await deliver(call, write, event, cursor, filter, structured);
        if (open && filter.checkpointInterval !== undefined && searched % filter.checkpointInterval === 0) {
          open = await write(toCheckpointResponse(event.position));
        }
        continue;
      }

      if (!caughtUp) {
        caughtUp = true;
        open = await sendCaughtUp(write, log, cursor, filter);
        continue;
      }
      await new Promise<void>((resolve) => {
        const stopListening = log.onAppend(done);
        call.once('cancelled', done);
        wake = done;
        function done(): void {
          stopListening();
          call.off('cancelled', done);
          wake = undefined;
          resolve();
        }
      });
    }

    if (open && !call.cancelled) {
      call.end();
    }
  } finally {
    unregister();
  }
}

type Write = (response: StreamsPb.ReadResp) => Promise<boolean>;

async function deliver(
  call: ReadCall,
  write: Write,
  event: StoredEvent,
  cursor: Cursor,
  filter: EventFilter,
  structured: boolean,
): Promise<boolean> {
  if (!cursor.accepts(event) || !filter.matches(event)) {
    return true;
  }
  if (cursor.streamName !== undefined && event.type === '$streamDeleted' && !call.cancelled) {
    // A stream subscription that reaches the tombstone of its stream fails, as in EventStoreDB.
    call.emit('error', streamDeletedError(event.streamName));
    return false;
  }
  return write(toEventResponse(event, structured));
}

async function sendCaughtUp(write: Write, log: EventLog, cursor: Cursor, filter: EventFilter): Promise<boolean> {
  const last = log.eventAt(cursor.index - 1);
  if (filter.checkpointInterval !== undefined && last !== undefined && !(await write(toCheckpointResponse(last.position)))) {
    return false;
  }
  return write(new streamsPb.ReadResp().setCaughtUp(new streamsPb.ReadResp.CaughtUp()));
}

function allCursor(log: EventLog, allOptions: StreamsPb.ReadReq.Options.AllOptions | undefined): Cursor {
  if (allOptions?.hasPosition()) {
    const after = BigInt(allOptions.getPosition()?.getCommitPosition() ?? '0');
    return { index: log.indexAtOrAfter(after + 1n), accepts: () => true };
  }
  return { index: allOptions?.hasEnd() ? log.length : 0, accepts: () => true };
}

function streamCursor(log: EventLog, streamOptions: StreamsPb.ReadReq.Options.StreamOptions | undefined): Cursor {
  const streamName = readStreamName(streamOptions?.getStreamIdentifier());
  const inStream = (event: StoredEvent): boolean => event.streamName === streamName;
  if (streamOptions?.hasRevision()) {
    const after = BigInt(streamOptions.getRevision());
    return { index: 0, accepts: (event) => inStream(event) && event.revision > after, streamName };
  }
  if (streamOptions?.hasEnd()) {
    return { index: log.length, accepts: inStream, streamName };
  }

  const lookup = log.readStream(streamName);
  const first = lookup.kind === 'found' ? (lookup.events[0]?.revision ?? 0n) : 0n;
  return { index: 0, accepts: (event) => inStream(event) && event.revision >= first, streamName };
}
