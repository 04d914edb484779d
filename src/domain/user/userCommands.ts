import { AlreadyExistsError, NotFoundError } from '../shared/errors';
import type { Timestamp } from '../shared/timestamps';
import type { UserEvent } from './userEvents';
import type { UserState } from './userState';

export type RegisterUser = {
  readonly type: 'RegisterUser';
  readonly userId: number;
  readonly email: string;
  readonly username: string;
  readonly passwordHash: string;
  readonly now: Timestamp;
};

export type UpdateUser = {
  readonly type: 'UpdateUser';
  readonly userId: number;
  readonly email?: string;
  readonly username?: string;
  readonly passwordHash?: string;
  readonly now: Timestamp;
};

export type DeleteUser = { readonly type: 'DeleteUser'; readonly userId: number; readonly now: Timestamp };

export type UserCommand = RegisterUser | UpdateUser | DeleteUser;

export function decideUser(command: UserCommand, state: UserState): UserEvent[] {
  switch (command.type) {
    case 'RegisterUser':
      return register(command, state);
    case 'UpdateUser':
      return update(command, state);
    case 'DeleteUser':
      return remove(command, state);
    default: {
      const unknownCommand: never = command;
      return unknownCommand;
    }
  }
}

function register(command: RegisterUser, state: UserState): UserEvent[] {
  if (state.status !== 'none') throw new AlreadyExistsError(`user ${command.userId} already exists`);

  const { userId, email, username, passwordHash, now } = command;

  return [{ type: 'UserRegistered', data: { userId, email, username, passwordHash, registeredAt: now } }];
}

/** Records only what differs from the current state, so a PUT that changes nothing appends nothing. */
function update(command: UpdateUser, state: UserState): UserEvent[] {
  if (state.status !== 'active') throw new NotFoundError(`user ${command.userId} not found`);

  const { userId, email, username, passwordHash, now } = command;
  const changedEmail = email !== undefined && email !== state.email ? email : undefined;
  const changedUsername = username !== undefined && username !== state.username ? username : undefined;

  if (changedEmail === undefined && changedUsername === undefined && passwordHash === undefined) return [];
  return [
    {
      type: 'UserUpdated',
      data: {
        userId,
        ...(changedEmail !== undefined && { email: changedEmail }),
        ...(changedUsername !== undefined && { username: changedUsername }),
        ...(passwordHash !== undefined && { passwordHash }),
        updatedAt: now,
      },
    },
  ];
}

function remove(command: DeleteUser, state: UserState): UserEvent[] {
  if (state.status !== 'active') throw new NotFoundError(`user ${command.userId} not found`);

  return [{ type: 'UserDeleted', data: { userId: command.userId, deletedAt: command.now } }];
}
