import { createHash } from 'node:crypto';
import { AdapterError, type AdapterContext } from './adapter.js';

/** A value made once per sync run and kept in the run's session (a logged-in client, for instance). */
export function perRun<T>(ctx: AdapterContext<unknown>, key: string, make: () => T): T {
  let value = ctx.session.get(key) as T | undefined;
  if (value === undefined) {
    value = make();
    ctx.session.set(key, value);
  }
  return value;
}

/** Reads something once per run, even when several reads ask for it at the same time; a failure is not kept. */
export function once<T>(ctx: AdapterContext<unknown>, key: string, read: () => Promise<T>): Promise<T> {
  let pending = ctx.session.get(key) as Promise<T> | undefined;
  if (!pending) {
    pending = read();
    ctx.session.set(key, pending);
    pending.catch(() => ctx.session.delete(key));
  }
  return pending;
}

/**
 * A platform session that can be renewed: one login however many reads ask for it at once, and, when
 * the platform refuses the session in the middle of a run (an `auth` error), one new login — unless
 * another read already renewed it — and the request once more. Every adapter's client keeps one (or
 * one per account) instead of its own copy of this dance.
 */
export class Relogin<S> {
  private current?: S;
  private pending?: Promise<S>;

  /**
   * @param logIn signs in and returns the session (a token, a cookie jar's key …); throws AdapterError.
   * @param canRenew whether a refused session may be renewed (false for a token given without credentials).
   */
  constructor(private readonly logIn: () => Promise<S>, private readonly canRenew: () => boolean = () => true) {}

  /** The session, signing in first when there is none yet. */
  session(): Promise<S> {
    if (this.current !== undefined) return Promise.resolve(this.current);
    this.pending ??= this.logIn().then(
      (session) => {
        this.current = session;
        this.pending = undefined;
        return session;
      },
      (error: unknown) => {
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }

  /** Starts with a session obtained elsewhere (a token in the configuration). */
  seed(session: S): void {
    this.current = session;
  }

  /** Forgets the session: the next `session()` signs in again. */
  drop(): void {
    this.current = undefined;
  }

  /**
   * Runs `work` in the session. When it fails as `auth`, renews the session once (parallel reads that
   * met the same refused session share the one login) and runs it again; a second refusal is final.
   */
  async run<T>(work: (session: S) => Promise<T>, onRenew?: () => void): Promise<T> {
    const used = await this.session();
    try {
      return await work(used);
    } catch (error) {
      if (!(error instanceof AdapterError) || error.kind !== 'auth' || !this.canRenew()) throw error;
      if (this.current === used) {
        onRenew?.();
        this.current = undefined;
      }
      return work(await this.session());
    }
  }
}

/**
 * The key a connection's requests share one rate limit under (with the host): a digest of what tells
 * the platform's accounts apart, so that two connections of one account wait for each other and no
 * login reaches a limiter's name in clear.
 */
export function credentialKey(...parts: ReadonlyArray<string | number | undefined>): string {
  return createHash('sha256').update(parts.map((p) => String(p ?? '')).join('\n')).digest('hex').slice(0, 16);
}
