import type { EventStore } from '../ports/EventStore';
import type { AggregateRepository } from './AggregateRepository';
import type { CommandContext } from './CommandContext';

export type ResourceKind = 'user' | 'product' | 'order';

/** Stream of one id sequence; its category `ids` cannot collide with `user`, `product` or `order`. */
export const idSequenceStreamName = (kind: ResourceKind): string => `ids-${kind}`;

/**
 * Allocates ids through the event store: each allocation appends one event to the kind's
 * sequence stream, and the store serialises appends to a stream, so the returned revision
 * (plus one, so ids start at 1) is unique across processes. An id whose command later fails
 * stays unused: ids are never reused, and may have gaps.
 */
export class IdAllocator {
  constructor(
    private readonly eventStore: EventStore,
    private readonly repository: AggregateRepository,
  ) {}

  async allocate(kind: ResourceKind, context: CommandContext): Promise<number> {
    const event = this.repository.newEvent('IdAllocated', { resource: kind }, context);
    const { nextExpectedRevision } = await this.eventStore.appendToStream(idSequenceStreamName(kind), [event], 'any');
    return Number(nextExpectedRevision) + 1;
  }
}
