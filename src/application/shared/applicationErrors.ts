/**
 * Errors the use cases raise besides domain errors. Each has a stable `code` that the
 * HTTP layer maps to a status in one table.
 */
export abstract class ApplicationError extends Error {
  abstract readonly code: string;

  constructor(
    message: string,
    readonly details?: ReadonlyArray<{ field: string; message: string }>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class EmailTakenError extends ApplicationError {
  readonly code = 'email_taken';
}

export class UsernameTakenError extends ApplicationError {
  readonly code = 'username_taken';
}

/** The order references a customer that does not exist or was deleted. */
export class CustomerNotFoundError extends ApplicationError {
  readonly code = 'customer_not_found';
}

/** The `If-Match` revision is not the stream's current revision. */
export class PreconditionFailedError extends ApplicationError {
  readonly code = 'precondition_failed';
}

/** Concurrent writers kept changing the stream through every retry. */
export class ConcurrencyConflictError extends ApplicationError {
  readonly code = 'concurrency_conflict';
}
