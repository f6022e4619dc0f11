import { describe, expect, it } from '@jest/globals';
import { TargetPolicy, TargetRefusedError } from '../../src/lib/net-targets.js';

/**
 * The Svix `is_allowed` reserved ranges as a table (ported as data: one address inside each range),
 * through the TargetPolicy the webhooks share with the connections. IPv4-mapped IPv6 is unwrapped first.
 */
const REFUSED: Array<[string, string]> = [
  ['0.0.0.0', 'this network 0.0.0.0/8'],
  ['0.1.2.3', 'this network 0.0.0.0/8'],
  ['10.0.0.5', 'private 10/8'],
  ['100.64.0.1', 'shared (CGNAT) 100.64/10'],
  ['127.0.0.1', 'loopback 127/8'],
  ['127.255.255.254', 'loopback 127/8'],
  ['169.254.169.254', 'link-local 169.254/16 (cloud metadata)'],
  ['172.16.0.1', 'private 172.16/12'],
  ['172.31.255.255', 'private 172.16/12'],
  ['192.0.0.8', 'IETF protocol assignments 192.0.0/24'],
  ['192.0.2.1', 'TEST-NET-1 192.0.2/24'],
  ['192.88.99.1', '6to4 relay anycast 192.88.99/24'],
  ['192.168.1.1', 'private 192.168/16'],
  ['198.18.0.1', 'benchmarking 198.18/15'],
  ['198.19.255.1', 'benchmarking 198.18/15'],
  ['198.51.100.7', 'TEST-NET-2 198.51.100/24'],
  ['203.0.113.9', 'TEST-NET-3 203.0.113/24'],
  ['224.0.0.1', 'multicast 224/4'],
  ['239.255.255.250', 'multicast 224/4'],
  ['240.0.0.1', 'reserved 240/4'],
  ['255.255.255.255', 'broadcast'],
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
  ['::ffff:7f00:1', 'IPv4-mapped loopback (hex)'],
  ['::ffff:10.0.0.5', 'IPv4-mapped private'],
  ['::ffff:169.254.169.254', 'IPv4-mapped link-local'],
  ['64:ff9b::7f00:1', 'NAT64 64:ff9b::/96'],
  ['100::1', 'discard-only 100::/64'],
  ['2001::1', 'Teredo 2001::/32'],
  ['2001:db8::1', 'documentation 2001:db8::/32'],
  ['2002:7f00:1::', '6to4 2002::/16'],
  ['fc00::1', 'unique local fc00::/7'],
  ['fd12:3456::1', 'unique local fc00::/7'],
  ['fe80::1', 'link-local fe80::/10'],
  ['ff02::1', 'multicast ff00::/8'],
];

const ALLOWED = ['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700::1', '2a00:1450:4001:80b::200e', '::ffff:93.184.216.34'];

describe('the webhook SSRF table', () => {
  const policy = new TargetPolicy();

  it.each(REFUSED)('refuses %s (%s)', (address) => {
    expect(() => policy.checkAddress(address, address)).toThrow(TargetRefusedError);
  });

  it.each(ALLOWED)('allows %s', (address) => {
    expect(() => policy.checkAddress(address, address)).not.toThrow();
  });

  it.each(REFUSED.map(([a]) => a))('refuses the literal URL of %s before any lookup', (address) => {
    const host = address.includes(':') ? `[${address}]` : address;
    expect(() => policy.checkUrl(`https://${host}/`)).toThrow(TargetRefusedError);
  });

  it('lets a school allow-list entry through, and nothing else of the same class', () => {
    const school = policy.extendedWith(['http://127.0.0.1:8080', '10.20.0.0/16']);
    expect(school.checkUrl('http://127.0.0.1:8080/hook')).toBe(true);
    expect(() => school.checkUrl('http://127.0.0.1:8081/hook')).toThrow(TargetRefusedError);
    expect(() => school.checkAddress('10.20.1.2', '10.20.1.2')).not.toThrow();
    expect(() => school.checkAddress('10.21.1.2', '10.21.1.2')).toThrow(TargetRefusedError);
    // The base policy is left as it was.
    expect(() => policy.checkAddress('10.20.1.2', '10.20.1.2')).toThrow(TargetRefusedError);
  });
});
