import type { OutboxRelay } from '../outbox/OutboxRelay';
import type { EventStore } from '../ports/EventStore';
import type { MessagePublisher } from '../ports/MessagePublisher';
import type { ReadModelStore } from '../ports/ReadModelStore';
import type { Projector } from '../projection/Projector';

export type DependencyCheck = { readonly status: 'up' | 'down'; readonly error?: string };

export type ReadinessReport = {
  readonly status: 'ready' | 'not_ready';
  readonly dependencies: {
    readonly event_store: DependencyCheck;
    readonly read_models: DependencyCheck;
    readonly message_broker: DependencyCheck;
  };
  readonly projector: { readonly state: string; readonly checkpoint: string | null; readonly lag: string | null };
  readonly relay: { readonly state: string; readonly checkpoint: string | null; readonly lag: string | null; readonly messages_published: number };
  readonly head_position: string | null;
};

/**
 * Reports readiness. Lag is the distance in log positions between the head and a checkpoint
 * (an event count on the embedded store). A broker outage does not make the API unready:
 * commands still succeed and their messages wait in the log.
 */
export class HealthService {
  constructor(
    private readonly eventStore: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly publisher: MessagePublisher,
    private readonly projector: Projector,
    private readonly relay: OutboxRelay,
  ) {}

  async readiness(): Promise<ReadinessReport> {
    const [head, eventStore] = await probe(() => this.eventStore.headPosition());
    const [projectorCheckpoint, readModels] = await probe(() => this.readModels.getCheckpoint());
    const projector = this.projector.status();
    const relay = this.relay.status();
    const ready = eventStore.status === 'up' && readModels.status === 'up' && projector.state === 'running';

    return {
      status: ready ? 'ready' : 'not_ready',
      dependencies: {
        event_store: eventStore,
        read_models: readModels,
        message_broker: this.publisher.isConnected() ? { status: 'up' } : { status: 'down', error: relay.lastError ?? 'not connected' },
      },
      projector: { state: projector.state, checkpoint: projectorCheckpoint?.toString() ?? null, lag: lag(head, projectorCheckpoint) },
      relay: {
        state: relay.state,
        checkpoint: relay.checkpoint?.toString() ?? null,
        lag: lag(head, relay.checkpoint),
        messages_published: relay.messagesPublished,
      },
      head_position: head?.toString() ?? null,
    };
  }
}

async function probe<T>(read: () => Promise<T>): Promise<[T | undefined, DependencyCheck]> {
  try {
    return [await read(), { status: 'up' }];
  } catch (error) {
    return [undefined, { status: 'down', error: error instanceof Error ? error.message : String(error) }];
  }
}

function lag(head: bigint | undefined, checkpoint: bigint | undefined): string | null {
  if (head === undefined) return '0';
  return (head - (checkpoint ?? 0n)).toString();
}
