import { RELAY_CHECKPOINT_STREAM, RELAY_STREAM_PREFIXES } from '../../application/outbox/OutboxRelay';
import type { EventStore } from '../../application/ports/EventStore';
import type { ReadModelStore } from '../../application/ports/ReadModelStore';
import { PROJECTED_STREAM_PREFIXES } from '../../application/projection/projections';
import type { SubscriptionWorkerStatus } from '../../application/shared/SubscriptionWorker';
import type { ShopstreamMetrics } from './ShopstreamMetrics';

export type TrackedWorkers = {
  readonly eventStore: EventStore;
  readonly readModels: ReadModelStore;
  /** Status of the projector in this process; undefined when this process does not run it. */
  readonly projectorStatus: () => SubscriptionWorkerStatus | undefined;
  readonly relayStatus: () => SubscriptionWorkerStatus | undefined;
};

/**
 * Reports the projector and the outbox relay. Their lag is measured from the checkpoints they
 * store (the read model store's, and the relay's checkpoint stream), so it is right in every
 * process that shares those stores, whether or not it runs the worker.
 */
export function trackWorkers(metrics: ShopstreamMetrics, workers: TrackedWorkers): void {
  const { eventStore, readModels } = workers;
  metrics.trackWorker(
    {
      worker: 'projector',
      streamPrefixes: PROJECTED_STREAM_PREFIXES,
      status: workers.projectorStatus,
      checkpoint: () => readModels.getCheckpoint(),
    },
    eventStore,
  );
  metrics.trackWorker(
    {
      worker: 'outbox-relay',
      streamPrefixes: RELAY_STREAM_PREFIXES,
      status: workers.relayStatus,
      checkpoint: () => readRelayCheckpoint(eventStore),
    },
    eventStore,
  );
}

/** Reads the relay's last stored checkpoint without touching the relay, whose own read also sets its expected revision. */
async function readRelayCheckpoint(eventStore: EventStore): Promise<bigint | undefined> {
  const [last] = await eventStore.readStream(RELAY_CHECKPOINT_STREAM, { direction: 'backwards', maxCount: 1 });
  return last === undefined ? undefined : BigInt(String(last.data.position));
}
