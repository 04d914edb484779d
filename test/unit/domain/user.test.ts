import { AlreadyExistsError, NotFoundError } from '../../../src/domain/shared/errors';
import { decideUser, type UserCommand } from '../../../src/domain/user/userCommands';
import type { UserEvent } from '../../../src/domain/user/userEvents';
import { evolveUser, initialUserState, uniquenessKey, type UserState } from '../../../src/domain/user/userState';

const USER_ID = 1;
const REGISTERED_AT = '2026-01-01T10:00:00.000Z';
const UPDATED_AT = '2026-01-02T10:00:00.000Z';
const NOW = '2026-01-03T10:00:00.000Z';

const registered: UserEvent = {
  type: 'UserRegistered',
  data: { userId: USER_ID, email: 'ann@example.com', username: 'ann', passwordHash: 'hash-1', registeredAt: REGISTERED_AT },
};
const deleted: UserEvent = { type: 'UserDeleted', data: { userId: USER_ID, deletedAt: UPDATED_AT } };

function given(events: readonly UserEvent[]): UserState {
  return events.reduce(evolveUser, initialUserState);
}

function when(command: UserCommand, history: readonly UserEvent[]): UserEvent[] {
  return decideUser(command, given(history));
}

describe('RegisterUser', () => {
  const register: UserCommand = {
    type: 'RegisterUser',
    userId: USER_ID,
    email: 'ann@example.com',
    username: 'ann',
    passwordHash: 'hash-1',
    now: REGISTERED_AT,
  };

  it('registers on empty stream', () => {
    expect(when(register, [])).toEqual([registered]);
  });

  it('rejects an existing stream', () => {
    expect(() => when(register, [registered])).toThrow(AlreadyExistsError);
    expect(() => when(register, [registered])).toThrow('user 1 already exists');
  });

  it('rejects a deleted user stream', () => {
    expect(() => when(register, [registered, deleted])).toThrow(AlreadyExistsError);
  });
});

describe('UpdateUser', () => {
  const update = (fields: { email?: string; username?: string; passwordHash?: string }): UserCommand => ({
    type: 'UpdateUser',
    userId: USER_ID,
    ...fields,
    now: NOW,
  });

  it('records only changed fields', () => {
    const events = when(update({ email: 'ann@example.com', username: 'annie' }), [registered]);

    expect(events).toEqual([{ type: 'UserUpdated', data: { userId: USER_ID, username: 'annie', updatedAt: NOW } }]);
    expect(events[0]?.data).not.toHaveProperty('email');
    expect(events[0]?.data).not.toHaveProperty('passwordHash');
  });

  it('records a changed email', () => {
    expect(when(update({ email: 'new@example.com' }), [registered])).toEqual([
      { type: 'UserUpdated', data: { userId: USER_ID, email: 'new@example.com', updatedAt: NOW } },
    ]);
  });

  it('compares with the latest values', () => {
    const renamed: UserEvent = { type: 'UserUpdated', data: { userId: USER_ID, username: 'annie', updatedAt: UPDATED_AT } };

    expect(when(update({ username: 'annie' }), [registered, renamed])).toEqual([]);
    expect(when(update({ username: 'ann' }), [registered, renamed])).toEqual([
      { type: 'UserUpdated', data: { userId: USER_ID, username: 'ann', updatedAt: NOW } },
    ]);
  });

  it('identical values return no events', () => {
    expect(when(update({ email: 'ann@example.com', username: 'ann' }), [registered])).toEqual([]);
  });

  it('always records a password change', () => {
    // bcrypt salts every hash, so a hash cannot reveal a repeated password and each one is recorded.
    expect(when(update({ passwordHash: 'hash-1' }), [registered])).toEqual([
      { type: 'UserUpdated', data: { userId: USER_ID, passwordHash: 'hash-1', updatedAt: NOW } },
    ]);
  });

  it('password beside unchanged email', () => {
    expect(when(update({ email: 'ann@example.com', passwordHash: 'hash-2' }), [registered])).toEqual([
      { type: 'UserUpdated', data: { userId: USER_ID, passwordHash: 'hash-2', updatedAt: NOW } },
    ]);
  });

  it('missing user is not found', () => {
    expect(() => when(update({ username: 'annie' }), [])).toThrow(NotFoundError);
    expect(() => when(update({ username: 'annie' }), [])).toThrow('user 1 not found');
  });

  it('deleted user is not found', () => {
    expect(() => when(update({ username: 'annie' }), [registered, deleted])).toThrow(NotFoundError);
    expect(() => when(update({ username: 'annie' }), [registered, deleted])).toThrow('user 1 not found');
  });
});

describe('DeleteUser', () => {
  const remove: UserCommand = { type: 'DeleteUser', userId: USER_ID, now: NOW };

  it('deletes an active user', () => {
    expect(when(remove, [registered])).toEqual([{ type: 'UserDeleted', data: { userId: USER_ID, deletedAt: NOW } }]);
  });

  it('missing user is not found', () => {
    expect(() => when(remove, [])).toThrow(NotFoundError);
    expect(() => when(remove, [])).toThrow('user 1 not found');
  });

  it('deleted user is not found', () => {
    expect(() => when(remove, [registered, deleted])).toThrow(NotFoundError);
    expect(() => when(remove, [registered, deleted])).toThrow('user 1 not found');
  });
});

describe('evolveUser', () => {
  it('UserRegistered creates active user', () => {
    expect(given([registered])).toEqual({
      status: 'active',
      id: USER_ID,
      email: 'ann@example.com',
      username: 'ann',
      passwordHash: 'hash-1',
      createdAt: REGISTERED_AT,
      updatedAt: REGISTERED_AT,
    });
  });

  it('UserUpdated applies carried fields', () => {
    const updated: UserEvent = {
      type: 'UserUpdated',
      data: { userId: USER_ID, email: 'new@example.com', passwordHash: 'hash-2', updatedAt: UPDATED_AT },
    };

    expect(given([registered, updated])).toEqual({
      status: 'active',
      id: USER_ID,
      email: 'new@example.com',
      username: 'ann',
      passwordHash: 'hash-2',
      createdAt: REGISTERED_AT,
      updatedAt: UPDATED_AT,
    });
  });

  it('UserDeleted keeps identity only', () => {
    const state = given([registered, deleted]);

    expect(state).toEqual({ status: 'deleted', id: USER_ID, email: 'ann@example.com', username: 'ann' });
    expect(state).not.toHaveProperty('passwordHash');
  });

  it('UserUpdated ignores deleted user', () => {
    const updated: UserEvent = { type: 'UserUpdated', data: { userId: USER_ID, username: 'annie', updatedAt: NOW } };

    expect(given([registered, deleted, updated])).toEqual(given([registered, deleted]));
  });

  it('UserDeleted ignores missing user', () => {
    expect(given([deleted])).toEqual(initialUserState);
  });
});

describe('uniquenessKey', () => {
  it('ignores letter case', () => {
    expect(uniquenessKey('Ann@Example.COM')).toBe(uniquenessKey('ann@example.com'));
  });
});
