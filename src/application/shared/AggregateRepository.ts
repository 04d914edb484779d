import { chainNewEvents, isChainedStream, storedHash } from '../audit/hashChain';
import type { DomainEvent } from '../events/eventCodec';
import { decodeEvent, encodeEvent } from '../events/eventCodec';
import type { Clock } from '../ports/Clock';
import type { EventStore, JsonObject, NewEvent, RecordedEvent } from '../ports/EventStore';
import { WrongExpectedRevisionError } from '../ports/EventStore';
import type { IdGenerator } from '../ports/IdGenerator';
import { ConcurrencyConflictError, PreconditionFailedError } from './applicationErrors';
import type { CommandContext } from './CommandContext';

export type Aggregate<S, E extends DomainEvent, C> = {
  readonly initialState: S;
  readonly evolve: (state: S, event: E) => S;
  readonly decide: (command: C, state: S) => E[];
};

export type LoadedAggregate<S> = {
  readonly state: S;
  /** Revision of the stream's last event; undefined when the stream does not exist. */
  readonly revision: bigint | undefined;
};

export type CommandResult<S, E> = LoadedAggregate<S> & {
  readonly events: readonly E[];
  /** Global position of the last appended event; undefined when the command appended nothing. */
  readonly position: bigint | undefined;
};

/** How many times a command is decided again on fresh state after losing a race to another writer. */
export const MAX_CONFLICT_RETRIES = 5;

/**
 * The one command path: read the stream, fold it, decide, append with the revision read as the
 * expected revision. A lost race is retried on fresh state unless the client sent `If-Match`,
 * in which case it becomes a precondition failure. Events appended to `user-`, `product-` and
 * `order-` streams get `hash` and `previous_hash` metadata that chain them (see `hashChain`).
 */
export class AggregateRepository {
  constructor(
    private readonly eventStore: EventStore,
    private readonly idGenerator: IdGenerator,
    private readonly clock: Clock,
  ) {}

  async load<S, E extends DomainEvent, C>(aggregate: Aggregate<S, E, C>, streamId: string): Promise<LoadedAggregate<S>> {
    const { state, revision } = await this.loadWithLastEvent(aggregate, streamId);
    return { state, revision };
  }

  /** Also returns the stream's last event, whose hash the next append chains to. */
  private async loadWithLastEvent<S, E extends DomainEvent, C>(
    aggregate: Aggregate<S, E, C>,
    streamId: string,
  ): Promise<LoadedAggregate<S> & { readonly lastEvent: RecordedEvent | undefined }> {
    const recorded = await this.eventStore.readStream(streamId);
    let state = aggregate.initialState;
    for (const event of recorded) {
      const decoded = decodeEvent(event.type, event.data);
      if (decoded !== undefined) state = aggregate.evolve(state, decoded as E);
    }
    const lastEvent = recorded.at(-1);
    return { state, revision: lastEvent?.revision, lastEvent };
  }

  async execute<S, E extends DomainEvent, C>(
    aggregate: Aggregate<S, E, C>,
    streamId: string,
    command: C,
    context: CommandContext,
  ): Promise<CommandResult<S, E>> {
    for (let attempt = 1; ; attempt++) {
      const { state, revision, lastEvent } = await this.loadWithLastEvent(aggregate, streamId);
      assertExpectedRevision(streamId, revision, context);
      const { expectedRevision } = context;

      const events = aggregate.decide(command, state);
      if (events.length === 0) return { state, revision, events, position: undefined };

      try {
        const newEvents = events.map((event) => this.toNewEvent(event, context));
        const chained = isChainedStream(streamId)
          ? chainNewEvents(streamId, revision === undefined ? 0n : revision + 1n, storedHash(lastEvent), newEvents)
          : newEvents;
        const appended = await this.eventStore.appendToStream(streamId, chained, revision ?? 'no_stream');
        const newState = events.reduce(aggregate.evolve, state);
        return { state: newState, revision: appended.nextExpectedRevision, events, position: appended.position };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (expectedRevision !== undefined) {
          throw new PreconditionFailedError(`${streamId} changed after revision ${expectedRevision}`);
        }
        if (attempt > MAX_CONFLICT_RETRIES) {
          throw new ConcurrencyConflictError(`${streamId} kept changing during ${attempt} attempts; retry the request`);
        }
      }
    }
  }

  toNewEvent(event: DomainEvent, context: CommandContext): NewEvent {
    const { type, data } = encodeEvent(event);
    return this.newEvent(type, data, context);
  }

  /** Wraps stored event data with the metadata every event carries; also used for helper streams. */
  newEvent(type: string, data: JsonObject, context: CommandContext): NewEvent {
    return {
      id: this.idGenerator.newId(),
      type,
      data,
      metadata: {
        correlation_id: context.correlationId,
        causation_id: context.causationId,
        occurred_at: this.clock.now(),
      },
    };
  }
}

/**
 * Throws `PreconditionFailedError` when the client's `If-Match` revision is not the stream's
 * revision. A stream that does not exist passes, so that `decide` reports it as not found.
 */
export function assertExpectedRevision(streamId: string, revision: bigint | undefined, context: CommandContext): void {
  const { expectedRevision } = context;
  if (expectedRevision === undefined || revision === undefined || revision === expectedRevision) return;
  throw new PreconditionFailedError(`If-Match expects revision ${expectedRevision} but ${streamId} is at revision ${revision}`);
}
