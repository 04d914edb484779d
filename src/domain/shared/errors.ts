/**
 * Base of every rule violation the domain reports. `code` is a stable string that
 * callers map to their own protocol; the domain itself has no notion of HTTP.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The aggregate does not exist, or it was deleted. */
export class NotFoundError extends DomainError {
  readonly code = 'not_found';
}

/** An order status move that the state machine does not allow. */
export class InvalidStatusTransitionError extends DomainError {
  readonly code = 'invalid_status_transition';
}

/** A create command for an aggregate whose stream already has events. */
export class AlreadyExistsError extends DomainError {
  readonly code = 'already_exists';
}
