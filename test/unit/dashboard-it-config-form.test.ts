import { describe, expect, it } from '@jest/globals';
import { adapters } from '../../adapters/index.js';
import { configFromForm, fieldsOf } from '../../src/http/dashboard/pages/it/config-form.js';

/** The IT pages' connection form, drawn from each adapter's config schema: secrets write-only, values typed, an edit's patch only what changed. */
describe('the adapter’s own form', () => {
  it('has a field for every setting of every adapter, the secret keys marked', () => {
    for (const adapter of adapters.values()) {
      const fields = fieldsOf(adapter);
      const shape = Object.keys((adapter.configSchema as unknown as { shape?: Record<string, unknown> }).shape ?? {});
      if (shape.length > 0) expect(fields.map((f) => f.key).sort()).toEqual(shape.sort());
      // A secret key names a top-level setting (sealed whole, e.g. Kundoluk's accounts) or one nested inside one.
      expect(fields.filter((f) => f.secret).map((f) => f.key).sort()).toEqual([...adapter.secretKeys].filter((k) => fields.some((f) => f.key === k)).sort());
      expect(fields.some((f) => f.secret)).toBe(true);
    }
  });

  it('types what a form posts, leaves blanks out and parses JSON', () => {
    const dnevnik = adapters.get('dnevnikru')!;
    const config = configFromForm(dnevnik, {
      'config.baseUrl': ' https://api.dnevnik.ru ', 'config.login': 'admin', 'config.password': '', 'config.requestsPerSecond': '12',
      'config.homeworkFiles': ['false', 'true'], 'config.relatives': 'off', 'config.schoolId': '',
    });
    expect(config).toEqual({ baseUrl: 'https://api.dnevnik.ru', login: 'admin', requestsPerSecond: 12, homeworkFiles: true, relatives: 'off' });
    expect(configFromForm(dnevnik, { 'config.homeworkFiles': 'false' })).toEqual({ homeworkFiles: false });
    const kundoluk = adapters.get('kundoluk')!;
    expect(configFromForm(kundoluk, { 'config.accounts': '[{"username":"u","password":"p"}]' })).toEqual({ accounts: [{ username: 'u', password: 'p' }] });
    expect(() => configFromForm(kundoluk, { 'config.accounts': '[{' })).toThrow(/config\.accounts: not valid JSON/);
    expect(() => configFromForm(dnevnik, { 'config.scale': 'five' })).toThrow(/config\.scale: not a number/);
  });

  it('makes an edit’s patch of what changed, and a blank secret keeps the stored one', () => {
    const dnevnik = adapters.get('dnevnikru')!;
    const stored = { baseUrl: 'https://api.dnevnik.ru', login: 'admin', requestsPerSecond: 5, homeworkFiles: true, relatives: 'rotate', scale: 5, rangeDays: 31 };
    const same = { 'config.baseUrl': 'https://api.dnevnik.ru', 'config.login': 'admin', 'config.requestsPerSecond': '5', 'config.homeworkFiles': ['false', 'true'],
      'config.relatives': 'rotate', 'config.scale': '5', 'config.rangeDays': '31', 'config.password': '', 'config.clientSecret': '' };
    expect(configFromForm(dnevnik, same, stored)).toEqual({});
    expect(configFromForm(dnevnik, { ...same, 'config.login': 'other', 'config.password': 'new secret' }, stored)).toEqual({ login: 'other', password: 'new secret' });
  });
});
