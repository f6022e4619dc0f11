import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';
import { AppError, RateLimitedError, UnauthorizedError, ValidationError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

/** Parses a request part with a zod schema; a mismatch is a 400 naming every bad field. */
export function parseRequest<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${[what, ...i.path].join('.')}: ${i.message}`);
  throw new ValidationError(problems.join('; '), problems);
}

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'not_found', message: `no route for ${req.method} ${req.path}` } });
};

/** One error envelope for every failure: `{ error: { code, message, details? } }`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    if (error instanceof AppError && error.status < 500) {
      if (error instanceof UnauthorizedError) res.setHeader('www-authenticate', 'Bearer realm="journal-bridge"');
      if (error instanceof RateLimitedError) res.setHeader('retry-after', String(error.retryAfterSeconds));
      res.status(error.status).json({ error: { code: error.code, message: error.message, details: error.details } });
      return;
    }
    const status = (error as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Body-parser and friends: malformed JSON, entity too large.
      res.status(status).json({ error: { code: (error as { type?: string }).type ?? 'bad_request', message: (error as Error).message } });
      return;
    }
    logger.error({ err: error, method: req.method, route: req.route?.path }, 'request failed');
    res.status(500).json({ error: { code: 'internal', message: 'internal error; see the service log' } });
  };
}
