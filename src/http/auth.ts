import type { Request, RequestHandler } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { ApiKeys } from '../auth/api-keys.js';
import type { Caller } from '../auth/caller.js';
import type { Sessions } from '../auth/sessions.js';
import { ForbiddenError, RateLimitedError, UnauthorizedError } from '../lib/errors.js';
import { setCaller } from './caller.js';

export const SESSION_COOKIE = 'jb_session';

/** Paths anyone may call: health, signing in, the Telegram webhook (its own secret header). */
const PUBLIC = [/^\/health$/, /^\/v1\/auth\/(login|code|code\/verify)$/, /^\/v1\/telegram\/[^/]+\/webhook$/];
/** Paths answered without credentials, and in more detail with them (a printout's seal: src/http/routes/archive.ts). */
const OPTIONAL = [/^\/v1\/seals\/[^/]+$/];

export interface AuthenticationDeps {
  keys: ApiKeys;
  sessions: Sessions;
  /** Requests per minute per key or session, and per address before signing in (API_RATE_PER_MINUTE, API_ANONYMOUS_RATE_PER_MINUTE). */
  perCallerPerMinute: number;
  perAddressPerMinute: number;
}

/**
 * Resolves the caller of every request under /v1: an API key or a session token as
 * `Authorization: Bearer <token>`, or the dashboard's session cookie. No credentials, or credentials
 * that are wrong, expired or revoked: 401 (the same answer for each, so a probe learns nothing).
 * Rates are limited per caller and, for the public paths, per address (in this process; the one-time
 * codes' limits, which cost SMS, are shared through Postgres in auth/one-time-codes.ts).
 */
export function authenticate(deps: AuthenticationDeps): RequestHandler {
  const perCaller = new RateLimiterMemory({ points: deps.perCallerPerMinute, duration: 60 });
  const perAddress = new RateLimiterMemory({ points: deps.perAddressPerMinute, duration: 60 });
  return async (req, res, next) => {
    try {
      if (!req.path.startsWith('/v1/')) {
        // The dashboard's pages: the session cookie, if any and valid, names the caller; the pages send
        // everyone else to the sign-in page. Its files need no one.
        if (req.path.startsWith('/assets/') || req.path === '/health') return next();
        const cookie = cookieOf(req, SESSION_COOKIE);
        const caller = cookie ? await deps.sessions.authenticate(cookie) : undefined;
        if (caller) {
          if (!SAFE.has(req.method)) assertSameOrigin(req);
          await consume(perCaller, caller.sessionId ?? caller.userId);
          setCaller(res, caller);
        }
        return next();
      }
      if (PUBLIC.some((p) => p.test(req.path))) {
        await consume(perAddress, req.ip ?? 'unknown');
        return next();
      }
      const presented = credentialsOf(req);
      if (!presented && OPTIONAL.some((p) => p.test(req.path))) {
        await consume(perAddress, req.ip ?? 'unknown');
        return next();
      }
      const caller = presented ? await resolve(deps, presented.token) : undefined;
      if (!caller) {
        await consume(perAddress, req.ip ?? 'unknown');
        throw new UnauthorizedError(presented ? 'the credentials are not valid (wrong, expired or revoked)' : undefined);
      }
      if (presented!.from === 'cookie' && !SAFE.has(req.method)) assertSameOrigin(req);
      await consume(perCaller, caller.kind === 'api' ? caller.keyId : caller.sessionId ?? caller.userId);
      setCaller(res, caller);
      next();
    } catch (error) {
      next(error);
    }
  };
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

async function resolve(deps: AuthenticationDeps, token: string): Promise<Caller | undefined> {
  if (token.startsWith('jbk_')) return deps.keys.authenticate(token);
  return deps.sessions.authenticate(token);
}

function credentialsOf(req: Request): { token: string; from: 'header' | 'cookie' } | undefined {
  const header = req.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match ? { token: match[1]!, from: 'header' } : { token: '', from: 'header' };
  }
  const cookie = cookieOf(req, SESSION_COOKIE);
  return cookie ? { token: cookie, from: 'cookie' } : undefined;
}

export function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/** A cookie-authenticated change must come from our own pages (the cookie is SameSite=Lax as well). */
function assertSameOrigin(req: Request): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let host: string | undefined;
  try { host = new URL(origin).host; } catch { host = undefined; }
  if (host !== req.headers.host) throw new ForbiddenError('a change made with the session cookie must come from this service\'s own pages');
}

async function consume(limiter: RateLimiterMemory, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    const ms = (rejection as { msBeforeNext?: number }).msBeforeNext ?? 60_000;
    throw new RateLimitedError('too many requests; try again later', Math.max(1, Math.ceil(ms / 1000)));
  }
}
