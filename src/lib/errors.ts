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

/** No credentials, or credentials that are wrong, expired or revoked (HTTP 401). */
export class UnauthorizedError extends AppError {
  constructor(message = 'sign in or send an API key as `Authorization: Bearer <key>`') {
    super('unauthorized', message, 401);
  }
}

/** The caller is known and may see the object, but may not do this with it (HTTP 403). */
export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('forbidden', message, 403);
  }
}

/** Too many requests from one key, address or phone (HTTP 429); `retryAfterSeconds` goes into Retry-After. */
export class RateLimitedError extends AppError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super('rate_limited', message, 429, { retryAfterSeconds });
  }
}

/** The request cannot be done in the object's present state (HTTP 409): a period not locked yet, open severe findings. */
export class ConflictError extends AppError {
  constructor(message: string, details?: unknown) {
    super('conflict', message, 409, details);
  }
}
