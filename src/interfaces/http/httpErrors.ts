/** An error raised by the HTTP layer itself, already carrying its status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ReadonlyArray<{ field: string; message: string }>,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * The HTTP status of every stable error code raised by the domain, the use cases, the ports
 * and this layer. A test checks that each error class has a row here.
 */
export const ERROR_STATUS: Readonly<Record<string, number>> = {
  validation_failed: 400,
  invalid_json: 400,
  not_found: 404,
  method_not_allowed: 405,
  email_taken: 409,
  username_taken: 409,
  invalid_status_transition: 409,
  already_exists: 409,
  concurrency_conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  customer_not_found: 422,
  internal_error: 500,
  service_unavailable: 503,
};

/** Seconds a client should wait after a 503 before retrying. */
export const RETRY_AFTER_SECONDS = 5;
