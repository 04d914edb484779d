import type { EventStore } from '../ports/EventStore';
import type { Logger } from '../ports/Logger';
import type { CollectionName, ReadModelStore, ViewRecord } from '../ports/ReadModelStore';
import { ProjectionProgress } from './ProjectionProgress';
import { Projector } from './Projector';

const COLLECTIONS: readonly CollectionName[] = ['users', 'products', 'orders'];

/** The projector settings that matter for a one-off replay; the live subscription is never started. */
const REPLAY_OPTIONS = { maxBatchSize: 500, retry: { initialDelayMs: 100, maxDelayMs: 1000 } };

export type ReplayProgress = (eventsRead: number, position: bigint) => void;

/**
 * Deletes every read model document and the checkpoint, then replays the whole log with the
 * projector's code. Only the read models change: the relay keeps its own checkpoint in the
 * event store, so no message is published again.
 */
export async function rebuildReadModels(
  eventStore: EventStore,
  readModels: ReadModelStore,
  logger: Logger,
  onProgress?: ReplayProgress,
): Promise<number> {
  await readModels.clear();
  logger.info({}, 'read models cleared; replaying the log');
  const eventsRead = await replay(eventStore, readModels, logger, onProgress);
  logger.info({ eventsRead }, 'read models rebuilt');
  return eventsRead;
}

export type DifferenceKind =
  /** The live document is missing or reflects an older revision than the log. */
  | 'lagging'
  /** Same revision, different content; or a revision the log does not have. */
  | 'divergent'
  /** The live document belongs to no stream in the log. */
  | 'orphan';

export type ReadModelDifference = {
  readonly kind: DifferenceKind;
  readonly collection: CollectionName;
  readonly id: number;
  readonly expected: ViewRecord | undefined;
  readonly actual: ViewRecord | undefined;
};

export type VerificationResult = {
  readonly eventsRead: number;
  readonly documentsCompared: number;
  readonly differences: readonly ReadModelDifference[];
};

/**
 * Replays the log into `scratch` with the projector's code and compares every document with
 * the live read models. The live side is read after the replay. A document that a command
 * changed meanwhile therefore has a newer revision and is reported as divergent until a rerun.
 */
export async function verifyReadModels(
  eventStore: EventStore,
  live: ReadModelStore,
  scratch: ReadModelStore,
  logger: Logger,
  onProgress?: ReplayProgress,
): Promise<VerificationResult> {
  const eventsRead = await replay(eventStore, scratch, logger, onProgress);
  const differences: ReadModelDifference[] = [];
  let documentsCompared = 0;

  for (const collection of COLLECTIONS) {
    const expected = new Map((await scratch.list(collection)).map((record) => [record.id, record] as const));
    const actual = new Map((await live.list(collection)).map((record) => [record.id, record] as const));
    for (const id of new Set([...expected.keys(), ...actual.keys()])) {
      documentsCompared++;
      const kind = compare(expected.get(id), actual.get(id));
      if (kind !== undefined) differences.push({ kind, collection, id, expected: expected.get(id), actual: actual.get(id) });
    }
  }

  differences.sort((left, right) => left.collection.localeCompare(right.collection) || left.id - right.id);
  return { eventsRead, documentsCompared, differences };
}

function compare(expected: ViewRecord | undefined, actual: ViewRecord | undefined): DifferenceKind | undefined {
  if (expected === undefined) return 'orphan';
  if (actual === undefined || actual.revision < expected.revision) return 'lagging';
  if (actual.revision > expected.revision) return 'divergent';
  const same = actual.deleted === expected.deleted && JSON.stringify(sortKeys(actual.view)) === JSON.stringify(sortKeys(expected.view));
  return same ? undefined : 'divergent';
}

function sortKeys(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).sort(([left], [right]) => left.localeCompare(right)));
}

function replay(eventStore: EventStore, readModels: ReadModelStore, logger: Logger, onProgress?: ReplayProgress): Promise<number> {
  return new Projector(eventStore, readModels, new ProjectionProgress(), logger, REPLAY_OPTIONS).catchUp({ onProgress });
}
