import { readFileSync } from 'node:fs';
import nock from 'nock';
import { kundoluk } from '../../adapters/kundoluk/index.js';
import type { AdapterContext, AnyAdapter, StreamName } from '../../src/ports/adapter.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { offlineAdapter } from '../support/offline.js';

/**
 * What the Kundoluk nock tests (kundoluk-{fixtures,failures,web}.test.ts) share: the API host, the two
 * pupils' accounts and their logins, the fixtures, and the offline set-up (test/support/offline.ts) of a
 * school in Bishkek (UTC+6) read over the first school week of September 2025.
 */
export const HOST = 'https://kundoluk.example.test';
export const RANGE = { from: '2025-09-01', to: '2025-09-05' };
export const ACCOUNTS = [{ username: 'asanov.b', password: 'Жылдыз-2025' }, { username: 'ivanova.a', password: 'Алина#0715' }];
/** The fixtures' name of each account's pupil (`login-asanov.json` …), by position. */
export const PUPILS = ['asanov', 'ivanova'] as const;
export const CONFIG = { baseUrl: `${HOST}/api/`, accounts: ACCOUNTS, parallelPupils: 1, requestsPerSecond: 100 };
export const adapter: AnyAdapter = kundoluk;
export const fixture = (name: string) => readFileSync(new URL(`../fixtures/kundoluk/${name}`, import.meta.url), 'utf8');
export const json = { 'Content-Type': 'application/json; charset=utf-8' };

/** A test file's offline set-up (call it once, at the top of the file) for CONFIG with `extra` settings. */
export function kundolukOffline(extra: Record<string, unknown> = {}) {
  return offlineAdapter(adapter, { config: { ...CONFIG, ...extra }, range: RANGE, timeZone: 'Asia/Bishkek', now: new Date('2025-09-05T18:00:00+06:00') });
}

export const LOGIN = '/api/auth/loginStudent';

/** Account `i` signs in and is answered `answer` (its pupil's login fixture unless told). */
export function login(scope: nock.Scope, i: number, answer = `login-${PUPILS[i]}.json`): nock.Scope {
  return scope.post(LOGIN, { ...ACCOUNTS[i]!, device: 'android' }).reply(200, fixture(answer), json);
}

export const loginBoth = (): nock.Scope => login(login(nock(HOST), 0), 1);

/** The API as a pupil signed in with `token` (its first token unless told). */
export const as = (name: string, token = `tok-${name}-1`): nock.Scope => nock(HOST, { reqheaders: { authorization: `Bearer ${token}` } });

/** The records of the streams, read in turn. */
export async function read(ctx: AdapterContext<unknown>, streams: StreamName[]): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for (const name of streams) for await (const batch of adapter.streams[name]!.read(ctx)) records.push(...batch.records);
  return records;
}

export const ofType = <T extends SourceRecord['type']>(records: SourceRecord[], type: T) => records.filter((r): r is Extract<SourceRecord, { type: T }> => r.type === type);
