import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('has defaults that start the embedded demo', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 3000, DEMO: 'auto', DEMO_PUPILS: 300, LOG_LEVEL: 'info' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.DATA_DIR).toMatch(/\.data$/);
  });

  it('lists every bad key at once', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', DEMO: 'sometimes', LOG_LEVEL: 'loud' })).toThrow(
      expect.objectContaining({
        details: [
          expect.stringMatching(/^DATABASE_URL: /),
          expect.stringMatching(/^PORT: /),
          expect.stringMatching(/^LOG_LEVEL: /),
          expect.stringMatching(/^DEMO: /),
        ],
      }),
    );
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).PORT).toBe(3000);
  });
});
