import type { AdapterContext } from './adapter.js';

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
