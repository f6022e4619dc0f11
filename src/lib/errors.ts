/**
 * Errors that cross module boundaries. The HTTP layer maps `AppError.status` to the response code and
 * returns `{ error: { code, message, details? } }`; anything else is a 500 with a generic message.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 500,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A request or input that cannot be processed as given (HTTP 400). */
export class ValidationError extends AppError {
  constructor(message: string, details?: unknown) {
    super('validation_failed', message, 400, details);
  }
}

/** The addressed resource does not exist, or is not visible to the caller (HTTP 404). */
export class NotFoundError extends AppError {
  constructor(what: string) {
    super('not_found', `${what} not found`, 404);
  }
}

/** The environment or a stored configuration is invalid; raised at boot, never retried. */
export class ConfigError extends AppError {
  constructor(message: string, details?: unknown) {
    super('invalid_configuration', message, 500, details);
  }
}

/** Message of any thrown value, for logs and error records (never includes stack or payloads). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
