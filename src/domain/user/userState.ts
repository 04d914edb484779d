import type { Timestamp } from '../shared/timestamps';
import type { UserEvent } from './userEvents';

export type ActiveUser = {
  readonly status: 'active';
  readonly id: number;
  readonly email: string;
  readonly username: string;
  readonly passwordHash: string;
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
};

export type UserState =
  | { readonly status: 'none' }
  | ActiveUser
  | { readonly status: 'deleted'; readonly id: number; readonly email: string; readonly username: string };

export const initialUserState: UserState = { status: 'none' };

export function evolveUser(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserRegistered': {
      const { userId, email, username, passwordHash, registeredAt } = event.data;
      return { status: 'active', id: userId, email, username, passwordHash, createdAt: registeredAt, updatedAt: registeredAt };
    }
    case 'UserUpdated': {
      if (state.status !== 'active') return state;
      const { email, username, passwordHash, updatedAt } = event.data;
      return {
        ...state,
        email: email ?? state.email,
        username: username ?? state.username,
        passwordHash: passwordHash ?? state.passwordHash,
        updatedAt,
      };
    }
    case 'UserDeleted': {
      if (state.status !== 'active') return state;
      return { status: 'deleted', id: state.id, email: state.email, username: state.username };
    }
    default: {
      const unknownEvent: never = event;
      return unknownEvent;
    }
  }
}

/** Compares emails and usernames the way uniqueness does: ignoring letter case. */
export const uniquenessKey = (value: string): string => value.toLowerCase();
