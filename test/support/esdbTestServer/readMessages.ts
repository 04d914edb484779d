/** Building blocks shared by Streams.Read in its read and subscription forms. */
import type { StoredEvent } from './eventLog';
import type { GrpcJs, StreamsPb } from './protocol';
import { createStreamIdentifier, createUuid, streamsPb } from './protocol';

/** The server's default search window when the client sends `count` instead of `max`. */
const DEFAULT_SEARCH_WINDOW = 32;

/** Counters that let tests see how reads went out, such as whether they waited for the reader. */
export type ReadStats = {
  eventsSent: number;
  /** Writes that found the call's buffer full and waited for it to drain. */
  drainWaits: number;
};

export type EventFilter = {
  readonly matches: (event: StoredEvent) => boolean;
  /** Events searched between two checkpoints, or undefined when no checkpoints are due. */
  readonly checkpointInterval: number | undefined;
};

export function readEventFilter(options: StreamsPb.ReadReq.Options): EventFilter {
  const filter = options.getFilter();
  if (!options.hasFilter() || filter === undefined) {
    return { matches: () => true, checkpointInterval: undefined };
  }

  const onStreamName = filter.hasStreamIdentifier();
  const expression = onStreamName ? filter.getStreamIdentifier() : filter.getEventType();
  const prefixes = expression?.getPrefixList() ?? [];
  const regex = expression?.getRegex() ?? '';
  const pattern = prefixes.length === 0 && regex !== '' ? new RegExp(regex) : undefined;
  const window = filter.hasMax() ? filter.getMax() : DEFAULT_SEARCH_WINDOW;
  const multiplier = Math.max(1, filter.getCheckpointintervalmultiplier());

  return {
    matches: (event) => {
      const subject = onStreamName ? event.streamName : event.type;
      return pattern === undefined ? prefixes.some((prefix) => subject.startsWith(prefix)) : pattern.test(subject);
    },
    checkpointInterval: window * multiplier,
  };
}

export function wantsStructuredUuids(options: StreamsPb.ReadReq.Options): boolean {
  return options.getUuidOption()?.hasStructured() ?? false;
}

/** Converts a stored event; every 64-bit field is set as a decimal string. */
export function toEventResponse(event: StoredEvent, structuredUuids: boolean): StreamsPb.ReadResp {
  const recorded = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  recorded.setId(createUuid(event.id, structuredUuids));
  recorded.setStreamIdentifier(createStreamIdentifier(event.streamName));
  recorded.setStreamRevision(event.revision.toString(10));
  recorded.setCommitPosition(event.position.toString(10));
  recorded.setPreparePosition(event.position.toString(10));
  recorded.getMetadataMap().set('type', event.type);
  recorded.getMetadataMap().set('content-type', event.contentType);
  recorded.getMetadataMap().set('created', event.createdTicks.toString(10));
  recorded.setData(event.data);
  recorded.setCustomMetadata(event.customMetadata);

  const readEvent = new streamsPb.ReadResp.ReadEvent();
  readEvent.setEvent(recorded);
  readEvent.setCommitPosition(event.position.toString(10));
  return new streamsPb.ReadResp().setEvent(readEvent);
}

export function toCheckpointResponse(position: bigint): StreamsPb.ReadResp {
  const checkpoint = new streamsPb.ReadResp.Checkpoint();
  checkpoint.setCommitPosition(position.toString(10));
  checkpoint.setPreparePosition(position.toString(10));
  return new streamsPb.ReadResp().setCheckpoint(checkpoint);
}

/**
 * Writes one response and, when the call's buffer is full, waits for it to drain, so a
 * large catch-up follows the reader's pace. Resolves false once the call is cancelled.
 */
export async function writeWithBackpressure(
  call: GrpcJs.ServerWritableStream<StreamsPb.ReadReq, StreamsPb.ReadResp>,
  response: StreamsPb.ReadResp,
  stats: ReadStats,
): Promise<boolean> {
  if (call.cancelled || call.writableEnded) {
    return false;
  }
  if (response.hasEvent()) {
    stats.eventsSent += 1;
  }
  if (call.write(response)) {
    return true;
  }

  stats.drainWaits += 1;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
  });
  return !call.cancelled && !call.writableEnded;
}
