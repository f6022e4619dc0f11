import { describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { classifyKundoluk } from '../../adapters/kundoluk/client.js';
import type { StreamName } from '../../src/ports/adapter.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { adapter, as, fixture, HOST, json, kundolukOffline, LOGIN, login, loginBoth, read as readStreams } from './kundoluk-offline.js';

/**
 * How Kundoluk's failures reach the sync (nock, network off): a refused token (401) is one new login;
 * a refused login names the account by its position and never by its login; 410 on the login asks the
 * pupil to change the password; a parent's account is refused as unsupported; 400 lists, failed
 * envelopes and proxies' HTML pages are classified; an answer of an unknown shape fails as `permanent`
 * naming the endpoint and the field.
 */
const context = kundolukOffline();

/** The streams read in a new run. */
const read = (streams: StreamName[]): Promise<SourceRecord[]> => readStreams(context().ctx, streams);

describe('Kundoluk sessions and logins', () => {
  it('logs in again with the stored password when the token is refused (401), and goes on', async () => {
    const auth = loginBoth();
    const again = login(nock(HOST), 0, 'login-asanov-again.json');
    const refused = as('asanov').get('/api/student/gradebook/list').query(true).reply(401, fixture('unauthorized.json'), json);
    const retried = as('asanov', 'tok-asanov-2').get('/api/student/gradebook/list').query(true).reply(200, fixture('gradebook-list-asanov.json'), json);
    const other = as('ivanova').get('/api/student/gradebook/list').query(true).reply(200, fixture('gradebook-list-ivanova.json'), json);
    const records = await read(['schedule']);
    for (const scope of [auth, again, refused, retried, other]) expect(scope.pendingMocks()).toEqual([]);
    expect(records.filter((r) => r.type === 'lesson')).toHaveLength(6);
  });

  it('names a refused login by the account\'s position with the server\'s words, never by its login', async () => {
    login(nock(HOST), 0).post(LOGIN).reply(401, fixture('login-refused.json'), json);
    const failure = await adapter.checkConnection(context().ctx).catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'auth', message: 'Kundoluk refused the login of account #2 of 2: Неверный логин или пароль' });
  });

  it('treats a 400 on the login as a refused login, and keeps the login out of the server\'s words', async () => {
    nock(HOST).post(LOGIN).reply(400, [{ errorMessage: 'Пользователь asanov.b не найден' }], json);
    const failure = await adapter.checkConnection(context().ctx).catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'auth', status: 400, message: 'Kundoluk refused the login of account #1 of 2: Пользователь «…» не найден' });
  });

  it('asks for a password change on HTTP 410, naming the account by its position', async () => {
    nock(HOST).post(LOGIN).reply(410, '');
    const failure = await adapter.checkConnection(context().ctx).catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'auth', status: 410, message: 'Kundoluk requires account #1 of 2 to change its password in the Kundoluk app before it signs in again (HTTP 410)' });
  });

  it('refuses a parent\'s account clearly: the parent view needs a login and the children\'s PINs no public client shows', async () => {
    login(nock(HOST), 0, 'login-parent.json');
    const failure = await adapter.checkConnection(context().ctx).catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'permanent', message: expect.stringMatching(/^Kundoluk: account #1 of 2 is a parent's account \(type «parent»\), and only pupils' accounts are supported/) });
  });
});

describe('Kundoluk errors and unknown shapes', () => {
  it('turns a 400 list of {errorMessage} into a clear permanent error', async () => {
    loginBoth();
    const scope = as('asanov').get('/api/student/gradebook/list').query(true).reply(400, fixture('errors-400.json'), json);
    const failure = await read(['schedule']).catch((e: unknown) => e);
    expect(scope.isDone()).toBe(true);
    expect(failure).toMatchObject({ kind: 'permanent', status: 400, message: 'Kundoluk refused the request (HTTP 400): start_date: күндүн форматы туура эмес; end_date: неверный формат даты' });
  });

  it('classifies an envelope with resultCode ≠ 0 as permanent and a proxy\'s HTML page as transient', () => {
    const at = (path: string) => `${HOST}/api/${path}`;
    expect(classifyKundoluk({ status: 200, headers: {}, url: at('student/qmarks/all'), data: JSON.parse(fixture('result-code.json')) }))
      .toMatchObject({ kind: 'permanent', message: 'Kundoluk: Окуучу табылган жок (resultCode 3)' });
    expect(classifyKundoluk({ status: 200, headers: {}, url: at('auth/loginStudent'), data: JSON.parse(fixture('result-code.json')) })).toMatchObject({ kind: 'auth' });
    expect(classifyKundoluk({ status: 502, headers: {}, url: at('student/qmarks/all'), data: fixture('bad-gateway.html') }))
      .toMatchObject({ kind: 'transient', message: 'Kundoluk answered with an HTML page «502 Bad Gateway» (HTTP 502)' });
    expect(classifyKundoluk({ status: 200, headers: {}, url: at('student/qmarks/all'), data: JSON.parse(fixture('qmarks-ivanova.json')) })).toBeUndefined();
  });

  it.each([
    ['a payload that is not a list', { resultCode: 0, actionResult: { lessons: [] } }, 'Kundoluk GET /student/gradebook/list: actionResult: '],
    ['a lesson without an id', { resultCode: 0, actionResult: [{ subject: { name: 'Математика' }, year: 2025, month: 9, day: 1 }] },
      'Kundoluk GET /student/gradebook/list: actionResult[0]: a lesson with neither uid nor scheduleItemId'],
    ['marks that are not a list', { resultCode: 0, actionResult: [{ uid: 'l-1', marks: { mark: 5 } }] }, 'Kundoluk GET /student/gradebook/list: actionResult[0].marks: '],
    ['an envelope without actionResult', { resultCode: 0, resultMessage: 'OK' }, 'Kundoluk GET /student/gradebook/list: actionResult: '],
  ])('fails on %s as permanent, naming the endpoint and the field', async (_case, body, message) => {
    loginBoth();
    as('asanov').get('/api/student/gradebook/list').query(true).reply(200, body, json);
    const failure = await read(['schedule']).catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'permanent', message: expect.stringContaining(message) });
  });

  it('fails on a quarter-marks group whose quarterMarks is not a list', async () => {
    loginBoth();
    as('asanov').get('/api/student/qmarks/all').reply(200, { resultCode: 0, actionResult: [{ teacher: null, quarterMarks: 'none' }] }, json);
    const failure = await read(['periodMarks']).catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'permanent', message: expect.stringContaining('Kundoluk GET /student/qmarks/all: actionResult[0].quarterMarks: ') });
  });
});
