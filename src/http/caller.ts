import type { Response } from 'express';
import type { Caller } from '../auth/caller.js';
import { UnauthorizedError } from '../lib/errors.js';

/** The caller the authentication middleware (auth.ts) resolved for this request; a route behind it always has one. */
export function callerOf(res: Response): Caller {
  const caller = (res.locals as { caller?: Caller }).caller;
  if (!caller) throw new UnauthorizedError();
  return caller;
}

/** Sets the request's caller (the authentication middleware, once per request). */
export function setCaller(res: Response, caller: Caller): void {
  (res.locals as { caller?: Caller }).caller = caller;
}

/** The caller on a path where credentials are optional (a printout's seal check); undefined without them. */
export function optionalCallerOf(res: Response): Caller | undefined {
  return (res.locals as { caller?: Caller }).caller;
}
