import type { EventStore } from '../ports/EventStore';
import { ChainVerifier, isChainedStream, type ChainBreak } from './hashChain';

export type LogVerificationProgress = {
  readonly streamsSeen: number;
  readonly eventsRead: number;
  /** Global position of the last event read. */
  readonly position: bigint;
};

export type BrokenStream = { readonly streamId: string; readonly link: ChainBreak };

export type LogVerificationResult = {
  readonly streamsChecked: number;
  readonly eventsChecked: number;
  /** Each broken stream once, with its first broken link, in the order the breaks were found. */
  readonly brokenStreams: readonly BrokenStream[];
};

export type VerifyLogOptions = {
  /** Events per `readAll` call. Default 1000. */
  readonly pageSize?: number;
  /** `onProgress` runs each time this many more chained streams have been seen. Default 1000. */
  readonly progressEvery?: number;
  readonly onProgress?: (progress: LogVerificationProgress) => void;
};

/**
 * Verifies the hash chain of every `user-`, `product-` and `order-` stream in one pass over the
 * global log. A stream's events appear in the log in revision order, so each stream is checked
 * as its events arrive.
 *
 * NOTE: memory grows with the number of streams (one verifier of about a hundred bytes per
 * stream), not with the number of events.
 */
export async function verifyLog(eventStore: EventStore, options: VerifyLogOptions = {}): Promise<LogVerificationResult> {
  const { pageSize = 1000, progressEvery = 1000, onProgress } = options;
  const verifiers = new Map<string, ChainVerifier>();
  const brokenStreams: BrokenStream[] = [];
  let eventsRead = 0;
  let eventsChecked = 0;

  for (let after: bigint | undefined; ; ) {
    const page = await eventStore.readAll({ after, maxCount: pageSize });
    for (const event of page) {
      eventsRead++;
      after = event.position;
      if (!isChainedStream(event.streamId)) continue;

      let verifier = verifiers.get(event.streamId);
      if (verifier === undefined) {
        verifier = new ChainVerifier();
        verifiers.set(event.streamId, verifier);
        if (verifiers.size % progressEvery === 0) onProgress?.({ streamsSeen: verifiers.size, eventsRead, position: event.position });
      }
      eventsChecked++;
      const link = verifier.check(event);
      if (link !== undefined) brokenStreams.push({ streamId: event.streamId, link });
    }
    if (page.length < pageSize) break;
  }

  return { streamsChecked: verifiers.size, eventsChecked, brokenStreams };
}
