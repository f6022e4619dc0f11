import type { HttpResponse } from './adapter.js';

/**
 * The cookies of one platform session: what the platform sets (`Set-Cookie`) is kept and sent back as
 * the `Cookie` header. A cookie set to an empty value is dropped, as a logout or an expired session does.
 * Attributes (path, domain, expiry) are not tracked: an adapter's session talks to one site.
 */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** Keeps the cookies a response sets. */
  keep(response: HttpResponse): void {
    const set = response.headers['set-cookie'];
    for (const line of Array.isArray(set) ? set : set ? [set] : []) {
      const pair = line.split(';')[0] ?? '';
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value) this.cookies.set(name, value);
      else this.cookies.delete(name);
    }
  }

  /** The `Cookie` request header, or no header while the jar is empty. */
  header(): Record<string, string> {
    return this.cookies.size > 0 ? { Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  get size(): number {
    return this.cookies.size;
  }

  clear(): void {
    this.cookies.clear();
  }
}
