import { describe, expect, it } from '@jest/globals';
import type { LookupAddress } from 'node:dns';
import { originsOf, TargetPolicy, TargetRefusedError } from '../../src/lib/net-targets.js';

/** Where a connection may point: the address classes refused, the allow-list, and the connect-time lookup. */
const resolveTo = (table: Record<string, string[]>) => async (host: string): Promise<LookupAddress[]> => {
  const addresses = table[host];
  if (!addresses) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('TargetPolicy', () => {
  const policy = new TargetPolicy([], resolveTo({ 'api.dnevnik.ru': ['93.184.216.34'], 'inside.example': ['10.1.2.3'], 'mixed.example': ['93.184.216.34', '127.0.0.1'] }));

  it.each([
    ['file:///etc/passwd', /file: URLs are refused/],
    ['javascript:alert(1)', /javascript: URLs are refused/],
    ['data:text/plain,hi', /data: URLs are refused/],
    ['http://api.dnevnik.ru/', /plain http is refused/],
    ['https://user:secret@api.dnevnik.ru/', /user name or password/],
    ['https://169.254.169.254/', /linkLocal/],
    ['https://[::ffff:127.0.0.1]/', /loopback/],
    ['https://[::ffff:7f00:1]/', /loopback/],
    ['https://0.0.0.0/', /unspecified/],
    ['https://10.0.0.5/', /private/],
    ['https://100.64.1.1/', /carrierGradeNat/],
    ['https://224.0.0.1/', /multicast/],
    ['https://[::1]/', /loopback/],
    ['https://[fd00::1]/', /uniqueLocal/],
    ['https://[fe80::1]/', /linkLocal/],
    ['https://240.0.0.1/', /reserved/],
    ['https://inside.example/', /at 10\.1\.2\.3, a private address/],
    ['https://mixed.example/', /at 127\.0\.0\.1, a loopback address/],
    ['https://nowhere.example/', /does not resolve/],
  ])('refuses %s', async (url, reason) => {
    await expect(policy.check(url)).rejects.toThrow(reason);
  });

  it('allows https on a public address, by name or literally', async () => {
    await expect(policy.check('https://api.dnevnik.ru/')).resolves.toBeUndefined();
    await expect(policy.check('https://93.184.216.34:8443/v2/')).resolves.toBeUndefined();
  });

  it('allows http and private addresses only as configured: exact origins and CIDRs', async () => {
    const onPrem = new TargetPolicy(['http://127.0.0.1:8080', '10.20.0.0/16'], resolveTo({ 'journal.school.local': ['10.20.1.5'] }));
    await expect(onPrem.check('http://127.0.0.1:8080/api/')).resolves.toBeUndefined();
    await expect(onPrem.check('http://127.0.0.1:8081/')).rejects.toThrow(/plain http/);
    await expect(onPrem.check('https://127.0.0.1:8081/')).rejects.toThrow(/loopback/);
    await expect(onPrem.check('http://10.20.3.4/')).resolves.toBeUndefined();
    await expect(onPrem.check('https://journal.school.local/')).resolves.toBeUndefined();
    await expect(onPrem.check('https://[::ffff:10.20.3.4]/')).resolves.toBeUndefined();
    await expect(onPrem.check('https://10.21.0.1/')).rejects.toThrow(/private/);
    onPrem.allowOrigin('http://127.0.0.1:9000/whatever');
    await expect(onPrem.check('http://127.0.0.1:9000/')).resolves.toBeUndefined();
    expect(() => new TargetPolicy(['not a target'])).toThrow(/neither an origin/);
  });

  it('refuses at connect time a name that resolved to a public address at the check and to loopback now (DNS rebinding)', async () => {
    let calls = 0;
    const rebinding = new TargetPolicy([], async () => [{ address: calls++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }]);
    await expect(rebinding.check('https://rebind.example/')).resolves.toBeUndefined();
    const looked = await new Promise<{ error: Error | null; address: unknown }>((resolve) =>
      rebinding.lookup('rebind.example', { all: true }, (error, address) => resolve({ error, address })));
    expect(looked.error).toBeInstanceOf(TargetRefusedError);
    expect(looked.error?.message).toMatch(/127\.0\.0\.1, a loopback address/);
  });

  it('names where a configuration points by the origins of its baseUrl fields, at any depth', () => {
    expect(originsOf({ baseUrl: 'https://a.example/api/', teacher: { baseUrl: 'https://b.example/' }, login: 'x' })).toEqual(['https://a.example', 'https://b.example']);
  });
});
