import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

/**
 * Where the service may send a connection's requests (and so its secrets): `https:` on a public unicast
 * address, unless the operator allowed an exact origin or a CIDR range (CONNECTION_ALLOWED_TARGETS) for an
 * on-premises platform or the demo's simulators. Checked when a connection is written (the host's name is
 * resolved then) and again when each socket connects (`lookup`, for http agents and WebSockets), so a name
 * that resolves to a public address at the check and to 127.0.0.1 later (DNS rebinding) is still refused.
 * Address classes come from ipaddr.js (`range()`: anything but `unicast` is refused — loopback, private,
 * link-local, CGNAT, multicast, reserved, unspecified, NAT64/6to4/Teredo); IPv4-mapped IPv6 is unwrapped first.
 */

/** Resolves a host name to every address it has (node:dns `lookup` with `all`, by default). */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** The http/https agent and ws option of the same name: resolves, then refuses what the policy refuses. */
export type GuardedLookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/** A target the policy refuses: never retried, shown to whoever configured it. */
export class TargetRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefusedError';
  }
}

const systemResolve: Resolve = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** One entry of CONNECTION_ALLOWED_TARGETS: an origin (`http://host:port`) or a CIDR; undefined when it is neither. */
export function parseTargetEntry(entry: string): { origin: string } | { cidr: Cidr } | undefined {
  if (ipaddr.isValidCIDR(entry)) return { cidr: ipaddr.parseCIDR(entry) };
  if (ipaddr.isValid(entry)) {
    const address = ipaddr.parse(entry);
    return { cidr: [address, address.kind() === 'ipv4' ? 32 : 128] };
  }
  try {
    const url = new URL(entry);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password && (url.pathname === '/' || url.pathname === '')) return { origin: url.origin };
  } catch {
    // neither
  }
  return undefined;
}

/** Strips the brackets of an IPv6 URL host. */
function bare(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

export class TargetPolicy {
  private readonly origins = new Set<string>();
  private readonly cidrs: Cidr[] = [];

  /** @param entries origins and CIDRs allowed besides public https (CONNECTION_ALLOWED_TARGETS). */
  constructor(entries: readonly string[] = [], private readonly resolve: Resolve = systemResolve) {
    for (const entry of entries) {
      const parsed = parseTargetEntry(entry);
      if (!parsed) throw new Error(`"${entry}" is neither an origin (http://host:port) nor a CIDR`);
      if ('origin' in parsed) this.origins.add(parsed.origin);
      else this.cidrs.push(parsed.cidr);
    }
  }

  /**
   * This policy plus more allowed origins and CIDRs, with the same resolver: a school's own allow-list
   * (webhook receivers on its premises) on top of the process-wide one. Throws like the constructor.
   */
  extendedWith(entries: readonly string[]): TargetPolicy {
    const extended = new TargetPolicy(entries, this.resolve);
    for (const origin of this.origins) extended.origins.add(origin);
    extended.cidrs.push(...this.cidrs);
    return extended;
  }

  /** Whether an origin or address is allowed as such (the socket check of a connection made through `lookup`). */
  allows(origin: string, address: string): boolean {
    return this.origins.has(origin) || this.inAllowedRange(address);
  }

  /** Allows one more exact origin (the composing code's own simulators: src/demo/platforms.ts). */
  allowOrigin(url: string): void {
    this.origins.add(new URL(url).origin);
  }

  /**
   * What can be told without DNS: the scheme, credentials in the URL, a literal address. Throws
   * TargetRefusedError. Returns whether the origin is allowed as such (then no address check follows).
   */
  checkUrl(value: string | URL): boolean {
    let url: URL;
    try {
      url = typeof value === 'string' ? new URL(value) : value;
    } catch {
      throw new TargetRefusedError(`"${String(value)}" is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TargetRefusedError(`${url.protocol} URLs are refused: a platform is reached over https`);
    if (url.username || url.password) throw new TargetRefusedError('a URL with a user name or password in it is refused: give credentials in their own fields');
    if (this.origins.has(url.origin)) return true;
    const host = bare(url.hostname);
    // Plain http by name only through an allowed origin; by address, within an allowed range.
    if (url.protocol === 'http:' && !(ipaddr.isValid(host) && this.inAllowedRange(host))) {
      throw new TargetRefusedError(`${url.origin}: plain http is refused (use https, or allow this origin in CONNECTION_ALLOWED_TARGETS)`);
    }
    if (ipaddr.isValid(host)) this.checkAddress(url.host, host);
    return false;
  }

  /** checkUrl, then every address the host resolves to now. */
  async check(value: string): Promise<void> {
    if (this.checkUrl(value)) return;
    const url = new URL(value);
    const host = bare(url.hostname);
    if (ipaddr.isValid(host)) return;
    let addresses: LookupAddress[];
    try {
      addresses = await this.resolve(host);
    } catch (error) {
      throw new TargetRefusedError(`${url.host} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'DNS error'})`);
    }
    if (addresses.length === 0) throw new TargetRefusedError(`${url.host} does not resolve`);
    for (const a of addresses) this.checkAddress(url.host, a.address);
  }

  /** Throws unless the address is public unicast or in an allowed range. */
  checkAddress(host: string, address: string): void {
    if (this.inAllowedRange(address)) return;
    const range = ipaddr.process(address).range();
    if (range !== 'unicast') {
      throw new TargetRefusedError(`${host} is ${host === address ? 'a' : `at ${address}, a`} ${range} address: only public addresses are allowed (or ranges in CONNECTION_ALLOWED_TARGETS)`);
    }
  }

  /** The lookup sockets use: resolves through the policy's resolver and refuses what checkAddress refuses. */
  readonly lookup: GuardedLookup = (hostname, options, callback) => {
    const allowedByOrigin = [...this.origins].some((o) => bare(new URL(o).hostname) === hostname);
    this.resolve(hostname).then(
      (all) => {
        const wanted = options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all;
        if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }), '');
        try {
          if (!allowedByOrigin) for (const a of wanted) this.checkAddress(hostname, a.address);
        } catch (error) {
          return callback(error as NodeJS.ErrnoException, '');
        }
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };

  private inAllowedRange(address: string): boolean {
    if (this.cidrs.length === 0) return false;
    const parsed = ipaddr.process(address);
    return this.cidrs.some(([net, bits]) => {
      const candidate = net.kind() === parsed.kind() ? parsed : net.kind() === 'ipv6' && parsed.kind() === 'ipv4' ? (parsed as ipaddr.IPv4).toIPv4MappedAddress() : undefined;
      return candidate !== undefined && candidate.match(net, bits);
    });
  }
}

/** Every URL a connection's configuration points at: the values of its `baseUrl` fields, at any depth. */
export function targetsOf(config: unknown): string[] {
  const found: string[] = [];
  const visit = (value: unknown) => {
    if (!value || typeof value !== 'object') return;
    for (const [key, item] of Object.entries(value)) {
      if (key === 'baseUrl' && typeof item === 'string') found.push(item);
      else visit(item);
    }
  };
  visit(config);
  return found;
}

/** The origins of those URLs, sorted: two configurations point at the same hosts when these are equal. */
export function originsOf(config: unknown): string[] {
  return [...new Set(targetsOf(config).map((u) => {
    try {
      return new URL(u).origin;
    } catch {
      return u;
    }
  }))].sort();
}
