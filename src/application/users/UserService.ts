import { userStreamName } from '../../domain/user/userEvents';
import { uniquenessKey } from '../../domain/user/userState';
import type { Clock } from '../ports/Clock';
import type { Logger } from '../ports/Logger';
import type { PasswordHasher } from '../ports/PasswordHasher';
import { assertExpectedRevision, type AggregateRepository } from '../shared/AggregateRepository';
import { userAggregate } from '../shared/aggregates';
import type { CommandContext } from '../shared/CommandContext';
import type { IdAllocator } from '../shared/IdAllocator';
import type { WriteResult } from '../shared/WriteResult';
import type { UniqueField, UniqueValueRegistry } from './UniqueValueRegistry';

export type RegisterUserInput = { readonly email: string; readonly username: string; readonly password: string };

export type UpdateUserInput = { readonly email?: string; readonly username?: string; readonly password?: string };

export class UserService {
  constructor(
    private readonly repository: AggregateRepository,
    private readonly ids: IdAllocator,
    private readonly uniqueValues: UniqueValueRegistry,
    private readonly passwordHasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /**
   * Registers a user. The cheap uniqueness checks run first so a plain duplicate appends
   * nothing; the reservations then settle races between concurrent registrations.
   */
  async register(input: RegisterUserInput, context: CommandContext): Promise<WriteResult> {
    await this.uniqueValues.assertAvailable('email', input.email);
    await this.uniqueValues.assertAvailable('username', input.username);

    const passwordHash = await this.passwordHasher.hash(input.password);
    const userId = await this.ids.allocate('user', context);
    const reserved = await this.reserveAll(userId, { email: input.email, username: input.username }, context);

    try {
      const result = await this.repository.execute(
        userAggregate,
        userStreamName(userId),
        { type: 'RegisterUser', userId, email: input.email, username: input.username, passwordHash, now: this.clock.now() },
        context,
      );
      this.logger.info({ userId, correlationId: context.correlationId }, 'user registered');
      return { id: userId, revision: result.revision, position: result.position };
    } catch (error) {
      await this.releaseAll(userId, reserved, context);
      throw error;
    }
  }

  async update(userId: number, input: UpdateUserInput, context: CommandContext): Promise<WriteResult> {
    const streamId = userStreamName(userId);
    const { state, revision } = await this.repository.load(userAggregate, streamId);
    assertExpectedRevision(streamId, revision, context);
    const changing: Partial<Record<UniqueField, string>> = {};
    if (state.status === 'active') {
      if (input.email !== undefined && uniquenessKey(input.email) !== uniquenessKey(state.email)) changing.email = input.email;
      if (input.username !== undefined && uniquenessKey(input.username) !== uniquenessKey(state.username)) {
        changing.username = input.username;
      }
    }
    for (const [field, value] of Object.entries(changing) as [UniqueField, string][]) {
      await this.uniqueValues.assertAvailable(field, value, userId);
    }

    const passwordHash = input.password === undefined ? undefined : await this.passwordHasher.hash(input.password);
    const reserved = await this.reserveAll(userId, changing, context);

    try {
      const result = await this.repository.execute(
        userAggregate,
        streamId,
        { type: 'UpdateUser', userId, email: input.email, username: input.username, passwordHash, now: this.clock.now() },
        context,
      );
      if (state.status === 'active') await this.releaseAll(userId, previousValues(state, reserved), context);
      if (result.events.length > 0) this.logger.info({ userId, correlationId: context.correlationId }, 'user updated');
      return { id: userId, revision: result.revision, position: result.position };
    } catch (error) {
      await this.releaseAll(userId, reserved, context);
      throw error;
    }
  }

  /** Deletes the user; the stream stays for auditors, and the email and username become free. */
  async delete(userId: number, context: CommandContext): Promise<WriteResult> {
    const streamId = userStreamName(userId);
    const { state } = await this.repository.load(userAggregate, streamId);

    const result = await this.repository.execute(userAggregate, streamId, { type: 'DeleteUser', userId, now: this.clock.now() }, context);

    if (state.status === 'active') {
      await this.releaseAll(userId, { email: state.email, username: state.username }, context);
    }
    this.logger.info({ userId, correlationId: context.correlationId }, 'user deleted');
    return { id: userId, revision: result.revision, position: result.position };
  }

  private async reserveAll(
    userId: number,
    values: Partial<Record<UniqueField, string>>,
    context: CommandContext,
  ): Promise<Partial<Record<UniqueField, string>>> {
    const reserved: Partial<Record<UniqueField, string>> = {};
    try {
      for (const [field, value] of Object.entries(values) as [UniqueField, string][]) {
        await this.uniqueValues.reserve(field, value, userId, context);
        reserved[field] = value;
      }
    } catch (error) {
      await this.releaseAll(userId, reserved, context);
      throw error;
    }
    return reserved;
  }

  /** Releases reservations; a failure only delays reuse until the grace period ends, so it is logged, not raised. */
  private async releaseAll(userId: number, values: Partial<Record<UniqueField, string>>, context: CommandContext): Promise<void> {
    for (const [field, value] of Object.entries(values) as [UniqueField, string][]) {
      try {
        await this.uniqueValues.release(field, value, userId, context);
      } catch (error) {
        this.logger.warn({ err: error, userId, field, correlationId: context.correlationId }, 'failed to release reservation');
      }
    }
  }
}

/** Returns the values a successful update replaced, for the fields whose new value was reserved. */
function previousValues(
  state: { email: string; username: string },
  replaced: Partial<Record<UniqueField, string>>,
): Partial<Record<UniqueField, string>> {
  const previous: Partial<Record<UniqueField, string>> = {};
  for (const field of Object.keys(replaced) as UniqueField[]) previous[field] = state[field];
  return previous;
}
