import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { adapters } from '../../adapters/index.js';
import { endpointKey } from '../../src/ports/response.js';

/**
 * Every registered adapter's fixtures (test/fixtures/<platform>/, listed in its manifest.json as
 * `file → "METHOD /path"`) parse with the schema of the endpoint they answer, every catalogued endpoint
 * has at least one fixture, and every fixture file is listed. Fixtures come from public captures where
 * there are any (their README says which); the simulators are checked against the same schemas by the
 * contract suite, so fixtures, simulators and the adapter cannot drift apart.
 */
const FIXTURES = new URL('../fixtures/', import.meta.url);

for (const adapter of adapters.values()) {
  describe(`${adapter.title} fixtures`, () => {
    const folder = new URL(`${adapter.id}/`, FIXTURES);
    const manifest = JSON.parse(readFileSync(new URL('manifest.json', folder), 'utf8')) as Record<string, string | string[]>;
    const byKey = new Map(adapter.endpoints.map((e) => [endpointKey(e), e]));
    const entries = Object.entries(manifest).flatMap(([file, keys]) => (Array.isArray(keys) ? keys : [keys]).map((key) => [file, key] as const));

    it('lists every fixture file and names catalogued endpoints only', () => {
      const files = readdirSync(folder, { withFileTypes: true }).filter((f) => f.isFile() && !['manifest.json', 'README.md'].includes(f.name)).map((f) => f.name);
      expect(files.filter((f) => !(f in manifest))).toEqual([]);
      expect(Object.keys(manifest).filter((f) => !existsSync(new URL(f, folder)))).toEqual([]);
      expect(entries.filter(([, key]) => key !== 'error' && !byKey.has(key)).map(([file, key]) => `${file}: ${key}`)).toEqual([]);
    });

    it('has a fixture for every endpoint it reads', () => {
      const covered = new Set(entries.map(([, key]) => key));
      expect([...byKey.keys()].filter((key) => !covered.has(key))).toEqual([]);
    });

    it.each(entries.filter(([, key]) => key !== 'error'))('%s parses as %s', (file, key) => {
      expect(() => byKey.get(key)!.parseBody(readFileSync(new URL(file, folder), 'utf8'))).not.toThrow();
    });
  });
}
