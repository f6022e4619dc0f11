/** Set by global-setup for the test files: the server to create databases on, and the migrated template. */
export const SERVER_ENV = 'JB_TEST_SERVER_URL';
export const TEMPLATE_ENV = 'JB_TEST_TEMPLATE';

/** The maintenance database of the server a URL points at. */
export function adminUrl(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/postgres';
  return parsed.toString();
}

export function databaseUrl(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
