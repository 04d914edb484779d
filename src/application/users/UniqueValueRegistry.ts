import { userStreamName } from '../../domain/user/userEvents';
import { uniquenessKey, type UserState } from '../../domain/user/userState';
import type { Clock } from '../ports/Clock';
import type { EventStore } from '../ports/EventStore';
import { WrongExpectedRevisionError } from '../ports/EventStore';
import type { Logger } from '../ports/Logger';
import { EmailTakenError, UsernameTakenError } from '../shared/applicationErrors';
import type { AggregateRepository } from '../shared/AggregateRepository';
import { userAggregate } from '../shared/aggregates';
import type { CommandContext } from '../shared/CommandContext';

export type UniqueField = 'email' | 'username';

/**
 * How long a reservation whose owner has not yet stored the value counts as taken. It covers
 * the gap between reserving and appending the user's event; after it, a reservation left by a
 * crashed request no longer blocks the value.
 */
export const RESERVATION_GRACE_MS = 30_000;

const MAX_RESERVE_ATTEMPTS = 5;

/** Reservation stream of one value, keyed by the value in lower case; category `unique_email` or `unique_username`. */
export const reservationStreamName = (field: UniqueField, value: string): string =>
  `unique_${field}-${uniquenessKey(value)}`;

type Reservation = {
  readonly revision: bigint | undefined;
  readonly ownerUserId: number | undefined;
  readonly reservedAt: number | undefined;
};

/**
 * Keeps emails and usernames unique among live users, ignoring case, without a read model:
 * each value has a reservation stream, and a reservation is appended with the revision that
 * was read, so of two concurrent requests only one can win. A reservation counts only while
 * its owner is a live user holding that value (or during the grace period), so deleted users,
 * changed values and crashed requests release values without any cleanup job.
 */
export class UniqueValueRegistry {
  constructor(
    private readonly eventStore: EventStore,
    private readonly repository: AggregateRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Throws the field's "taken" error if the value belongs to another user now. */
  async assertAvailable(field: UniqueField, value: string, forUserId?: number): Promise<void> {
    const reservation = await this.read(field, value);
    if (await this.isHeldByOther(field, value, reservation, forUserId)) throw takenError(field, value);
  }

  /** Reserves the value for the user; throws the field's "taken" error if it belongs to another user. */
  async reserve(field: UniqueField, value: string, userId: number, context: CommandContext): Promise<void> {
    const streamId = reservationStreamName(field, value);

    for (let attempt = 1; attempt <= MAX_RESERVE_ATTEMPTS; attempt++) {
      const reservation = await this.read(field, value);
      if (await this.isHeldByOther(field, value, reservation, userId)) throw takenError(field, value);
      if (reservation.ownerUserId === userId) return;

      const event = this.repository.newEvent(
        'UniqueValueReserved',
        { field, user_id: userId, reserved_at: this.clock.now() },
        context,
      );
      try {
        await this.eventStore.appendToStream(streamId, [event], reservation.revision ?? 'no_stream');
        return;
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        this.logger.debug({ streamId, userId, attempt }, 'reservation raced another request; reading it again');
      }
    }
    throw takenError(field, value);
  }

  /** Releases the user's reservation of the value, if it still holds it; a lost race is harmless. */
  async release(field: UniqueField, value: string, userId: number, context: CommandContext): Promise<void> {
    const streamId = reservationStreamName(field, value);
    const reservation = await this.read(field, value);
    if (reservation.ownerUserId !== userId || reservation.revision === undefined) return;

    const event = this.repository.newEvent('UniqueValueReleased', { field, user_id: userId, released_at: this.clock.now() }, context);
    try {
      await this.eventStore.appendToStream(streamId, [event], reservation.revision);
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      this.logger.debug({ streamId, userId }, 'reservation changed before its release; leaving it');
    }
  }

  private async read(field: UniqueField, value: string): Promise<Reservation> {
    const [last] = await this.eventStore.readStream(reservationStreamName(field, value), {
      direction: 'backwards',
      maxCount: 1,
    });
    if (last === undefined) return { revision: undefined, ownerUserId: undefined, reservedAt: undefined };
    if (last.type !== 'UniqueValueReserved') return { revision: last.revision, ownerUserId: undefined, reservedAt: undefined };
    return {
      revision: last.revision,
      ownerUserId: Number(last.data.user_id),
      reservedAt: Date.parse(String(last.data.reserved_at)),
    };
  }

  private async isHeldByOther(
    field: UniqueField,
    value: string,
    reservation: Reservation,
    forUserId: number | undefined,
  ): Promise<boolean> {
    const { ownerUserId, reservedAt } = reservation;
    if (ownerUserId === undefined || ownerUserId === forUserId) return false;

    const owner = await this.loadUser(ownerUserId);
    if (owner.status === 'active') {
      if (uniquenessKey(owner[field]) === uniquenessKey(value)) return true;
    }
    if (owner.status === 'deleted') return false;
    return reservedAt !== undefined && Date.parse(this.clock.now()) - reservedAt < RESERVATION_GRACE_MS;
  }

  private async loadUser(userId: number): Promise<UserState> {
    const { state } = await this.repository.load(userAggregate, userStreamName(userId));
    return state;
  }
}

function takenError(field: UniqueField, value: string): EmailTakenError | UsernameTakenError {
  const details = [{ field, message: `${field} is already registered` }];
  return field === 'email'
    ? new EmailTakenError(`email ${value} is already registered`, details)
    : new UsernameTakenError(`username ${value} is already taken`, details);
}
