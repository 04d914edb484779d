import type { Timestamp } from '../shared/timestamps';

export type UserRegistered = {
  readonly type: 'UserRegistered';
  readonly data: {
    readonly userId: number;
    readonly email: string;
    readonly username: string;
    readonly passwordHash: string;
    readonly registeredAt: Timestamp;
  };
};

/** Carries only the fields that changed. */
export type UserUpdated = {
  readonly type: 'UserUpdated';
  readonly data: {
    readonly userId: number;
    readonly email?: string;
    readonly username?: string;
    readonly passwordHash?: string;
    readonly updatedAt: Timestamp;
  };
};

export type UserDeleted = {
  readonly type: 'UserDeleted';
  readonly data: { readonly userId: number; readonly deletedAt: Timestamp };
};

export type UserEvent = UserRegistered | UserUpdated | UserDeleted;

export const userStreamName = (userId: number): string => `user-${userId}`;
