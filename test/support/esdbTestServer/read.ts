/**
 * Streams.Read in its read form: one stream or `$all`, forwards or backwards, up to a count.
 * Reading a stream from a revision includes that revision. Reading `$all` forwards from a
 * position includes the event at it, and reading backwards from a position starts before it.
 */
import type { EventLog, StoredEvent } from './eventLog';
import { streamDeletedError } from './expectations';
import type { GrpcJs, StreamsPb } from './protocol';
import { createStreamIdentifier, grpc, readStreamName, streamsPb } from './protocol';
import type { ReadStats } from './readMessages';
import { readEventFilter, toEventResponse, wantsStructuredUuids, writeWithBackpressure } from './readMessages';
import type { SubscriptionRegistry } from './subscription';
import { runSubscription } from './subscription';

type ReadCall = GrpcJs.ServerWritableStream<StreamsPb.ReadReq, StreamsPb.ReadResp>;

export function createReadHandler(
  log: EventLog,
  subscriptions: SubscriptionRegistry,
  stats: ReadStats,
): GrpcJs.handleServerStreamingCall<StreamsPb.ReadReq, StreamsPb.ReadResp> {
  return (call) => {
    const options = call.request.getOptions();
    if (options === undefined) {
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'Read request without options' });
      return;
    }

    const work = options.hasSubscription() ? runSubscription(call, log, options, subscriptions, stats) : runRead(call, log, options, stats);
    work.catch((error: unknown) => {
      call.emit('error', { code: grpc.status.INTERNAL, details: error instanceof Error ? error.message : String(error) });
    });
  };
}

async function runRead(call: ReadCall, log: EventLog, options: StreamsPb.ReadReq.Options, stats: ReadStats): Promise<void> {
  const count = BigInt(options.getCount() || '0');
  const forwards = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.FORWARDS;
  const structured = wantsStructuredUuids(options);

  let events: Iterable<StoredEvent>;
  if (options.hasStream()) {
    const selected = selectStreamEvents(call, log, options.getStream(), forwards);
    if (selected === undefined) {
      return;
    }
    events = selected;
  } else {
    const filter = readEventFilter(options);
    events = filterEvents(selectAllEvents(log, options.getAll(), forwards), filter.matches);
  }

  let sent = 0n;
  for (const event of events) {
    if (sent >= count || !(await writeWithBackpressure(call, toEventResponse(event, structured), stats))) {
      break;
    }
    sent += 1n;
  }
  if (!call.cancelled) {
    call.end();
  }
}

/** Returns the stream's events in reading order, or undefined after ending the call itself (not found, deleted). */
function selectStreamEvents(
  call: ReadCall,
  log: EventLog,
  streamOptions: StreamsPb.ReadReq.Options.StreamOptions | undefined,
  forwards: boolean,
): StoredEvent[] | undefined {
  const streamName = readStreamName(streamOptions?.getStreamIdentifier());
  const lookup = log.readStream(streamName);
  if (lookup.kind === 'deleted') {
    call.emit('error', streamDeletedError(streamName));
    return undefined;
  }
  if (lookup.kind === 'not_found') {
    const notFound = new streamsPb.ReadResp.StreamNotFound();
    notFound.setStreamIdentifier(createStreamIdentifier(streamName));
    call.write(new streamsPb.ReadResp().setStreamNotFound(notFound));
    call.end();
    return undefined;
  }

  const events = lookup.events;
  if (streamOptions?.hasRevision()) {
    const from = BigInt(streamOptions.getRevision());
    return forwards
      ? events.filter((event) => event.revision >= from)
      : events.filter((event) => event.revision <= from).reverse();
  }
  if (streamOptions?.hasEnd()) {
    return forwards ? [] : [...events].reverse();
  }
  return forwards ? [...events] : events.slice(0, 1);
}

function* selectAllEvents(
  log: EventLog,
  allOptions: StreamsPb.ReadReq.Options.AllOptions | undefined,
  forwards: boolean,
): Generator<StoredEvent> {
  let index: number;
  if (allOptions?.hasPosition()) {
    index = log.indexAtOrAfter(BigInt(allOptions.getPosition()?.getCommitPosition() ?? '0'));
  } else if (allOptions?.hasEnd()) {
    index = log.length;
  } else {
    index = 0;
  }

  if (forwards) {
    for (; index < log.length; index += 1) {
      yield log.eventAt(index) as StoredEvent;
    }
    return;
  }
  // Backwards from the start reads nothing, as in EventStoreDB: the index is 0 there.
  for (let back = index - 1; back >= 0; back -= 1) {
    yield log.eventAt(back) as StoredEvent;
  }
}

function* filterEvents(events: Iterable<StoredEvent>, matches: (event: StoredEvent) => boolean): Generator<StoredEvent> {
  for (const event of events) {
    if (matches(event)) {
      yield event;
    }
  }
}
