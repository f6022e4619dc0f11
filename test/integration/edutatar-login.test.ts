import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { edutatar } from '../../adapters/edutatar/index.js';
import { AdapterError, type AnyAdapter } from '../../src/ports/adapter.js';
import { harnessContext, memoryLogger } from '../support/adapter-harness.js';

/**
 * edu.tatar.ru's login and session answers, replayed with nock from test/fixtures/edutatar: the form
 * of today (`/login/`, `main_login2`) and of 2019 (`/logon`, `main_login`), the redirects of a good
 * login, `/message` with each refusal text (wrong password, unknown user, empty fields, a temporary
 * lock), the 2017 answer on `/logon` itself, «Restricted IP», a redirect loop, a redirect to «Моя
 * школа», and the four shapes of an ended session, each met by one new login. The network is off.
 */
const HOST = 'https://edu.example.test';
const PASSWORD = 'Гимназия#139';
const SESSION = 'f'.repeat(40);
const fixture = (name: string) => readFileSync(new URL(`../fixtures/edutatar/${name}`, import.meta.url), 'utf8');
const html = { 'Content-Type': 'text/html; charset=UTF-8' };
const adapter: AnyAdapter = edutatar;
const RANGE = { from: '2025-09-01', to: '2025-09-07' };
const context = (overrides: Record<string, unknown> = {}, logger = memoryLogger('debug')) =>
  harnessContext(adapter, { config: { baseUrl: HOST, login: '1600000077', password: PASSWORD, requestsPerSecond: 50, ...overrides }, range: RANGE, logger: logger.logger });
const formOf = (body: unknown): Record<string, string> => (typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : (body as Record<string, string>));

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

/** The form, then the POST answering with `answer` (a redirect to a path, or a page on /logon itself). */
function login(answer: { to: string } | { page: string }, fields: [string, string] = ['main_login2', 'main_password2']): nock.Scope {
  const scope = nock(HOST).get('/login/').reply(200, fixture('login.html'), html)
    .post('/logon', (body) => formOf(body)[fields[0]] === '1600000077' && formOf(body)[fields[1]] === PASSWORD);
  return 'page' in answer ? scope.reply(200, fixture(answer.page), html) : scope.reply(302, '', { Location: answer.to, 'Set-Cookie': `DNSID=${SESSION}; path=/` });
}

/** A good login: redirected to the cabinet, which is not fetched (it carries the account's mail password). */
const signedIn = () => login({ to: '/user/anketa' });

describe('edu.tatar.ru login', () => {
  it('reads the form of 2019 on /logon when /login/ is not there, and posts its main_login / main_password', async () => {
    const scope = nock(HOST).get('/login/').reply(404, 'Not Found')
      .get('/logon').reply(200, fixture('logon-2019.html'), html)
      .post('/logon', (body) => formOf(body).main_login === '1600000077' && formOf(body).main_password === PASSWORD)
      .matchHeader('referer', `${HOST}/logon`)
      .reply(302, '', { Location: '/user/anketa', 'Set-Cookie': `DNSID=${SESSION}; path=/` })
      .get('/school').matchHeader('cookie', `DNSID=${SESSION}`).reply(200, fixture('school.html'), html);
    await expect(adapter.checkConnection(context())).resolves.toBeUndefined();
    expect(scope.pendingMocks()).toEqual([]);
  });

  it('sends the configured field pair when loginFields says so', async () => {
    const scope = login({ to: '/user/anketa' }, ['main_login', 'main_password']).get('/school').reply(200, fixture('school.html'), html);
    await adapter.checkConnection(context({ loginFields: 'main_login' }));
    expect(scope.pendingMocks()).toEqual([]);
  });

  /** [the page the login ends on, kind, message] */
  const REFUSALS: Array<[string, { to: string } | { page: string }, string, RegExp]> = [
    ['/message «Неверный логин или пароль.»', { to: '/message' }, 'message-refused.html', /^edu\.tatar\.ru refused the login: «Неверный логин или пароль\.»/],
    ['/message «Пользователь не найден»', { to: '/message' }, 'message-unknown-user.html', /refused the login: «Пользователь не найден»/],
    ['/logon again with the error (2017)', { page: 'logon-refused-2017.html' }, '', /refused the login: «Неверный логин или пароль\.»/],
  ];

  it.each(REFUSALS)('refuses as auth: %s, and does not try again in the same run', async (_what, answer, page, message) => {
    const scope = login(answer);
    if (page) scope.get('/message').reply(200, fixture(page), html);
    const ctx = context();
    const failure = await adapter.checkConnection(ctx).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AdapterError);
    expect(failure).toMatchObject({ kind: 'auth', message: expect.stringMatching(message) });
    expect(scope.pendingMocks()).toEqual([]);
    await expect(adapter.streams.roster!.read(ctx)[Symbol.asyncIterator]().next()).rejects.toBe(failure);
  });

  it('waits long on a temporary lock («Доступ в систему временно заблокирован») instead of logging in again', async () => {
    login({ to: '/message' }).get('/message').reply(200, fixture('message-blocked.html'), html);
    const failure = await adapter.checkConnection(context()).catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'rate_limited', retryAfterMs: 30 * 60_000, message: expect.stringContaining('temporarily blocked') });
  });

  it('says to set loginFields when the site answers «Введите логин и пароль.» (the fields sent are not the form\'s)', async () => {
    login({ to: '/message' }).get('/message').reply(200, fixture('message-empty.html'), html);
    await expect(adapter.checkConnection(context())).rejects.toMatchObject({ kind: 'permanent', message: expect.stringContaining('set loginFields') });
  });

  it('accepts a login that ends on a page showing «Личный кабинет» without a form', async () => {
    const scope = login({ to: '/start/welcome' }).get('/start/welcome').reply(200, '<html><body><a href="/user/anketa" class="cabinet">Личный кабинет</a></body></html>', html)
      .get('/school').reply(200, fixture('school.html'), html);
    await adapter.checkConnection(context());
    expect(scope.pendingMocks()).toEqual([]);
  });

  it('reports a second-factor form (no public evidence of one) as permanent, telling to turn it off', async () => {
    const form = '<html><body><form method="post" action="/logon/confirm"><input name="code" autocomplete="one-time-code"></form></body></html>';
    login({ to: '/logon/confirm' }).get('/logon/confirm').reply(200, form, html);
    await expect(adapter.checkConnection(context())).rejects.toMatchObject({ kind: 'permanent', message: expect.stringMatching(/second factor.*turn two-factor authentication off/) });
  });

  it('fails a redirect loop after five hops, and a redirect to «Моя школа» saying the school has moved', async () => {
    const loop = login({ to: '/start/a' });
    for (let i = 0; i < 6; i += 1) loop.get('/start/a').reply(302, '', { Location: '/start/a' });
    await expect(adapter.checkConnection(context())).rejects.toMatchObject({ kind: 'permanent', message: expect.stringContaining('more than 5 times') });
    nock.cleanAll();
    login({ to: 'https://ms-edu.tatar.ru/16/' });
    await expect(adapter.checkConnection(context())).rejects.toMatchObject({ kind: 'permanent', message: expect.stringMatching(/ms-edu\.tatar\.ru.*«Моя школа»/) });
  });

  it('reports «Restricted IP» as permanent: the network is not allowed', async () => {
    nock(HOST).get('/login/').reply(200, fixture('restricted-ip.txt'), { 'Content-Type': 'text/html' });
    await expect(adapter.checkConnection(context())).rejects.toMatchObject({ kind: 'permanent', message: expect.stringContaining('Restricted IP') });
  });
});

/** [how the session ended, the answer to the page] */
const ENDED: Array<[string, (scope: nock.Scope) => nock.Scope]> = [
  ['a redirect to /logon, which sends on to /login/', (s) => s.get('/school').reply(302, '', { Location: '/logon' }).get('/logon').reply(302, '', { Location: '/login/' })
    .get('/login/').reply(200, fixture('login.html'), html)],
  ['a redirect to /message', (s) => s.get('/school').reply(302, '', { Location: '/message' }).get('/message').reply(200, fixture('message-session.html'), html)],
  ['a 200 page «Выберите дальнейшее действие»', (s) => s.get('/school').reply(200, fixture('session-choose.html'), html)],
  ['a 200 page «Пользователь не найден»', (s) => s.get('/school').reply(200, fixture('session-gone.html'), html)],
];

describe('edu.tatar.ru ended sessions', () => {
  it.each(ENDED)('logs in once more after %s, and reads the page again', async (_what, ended) => {
    const first = ended(signedIn());
    const again = signedIn().get('/school').reply(200, fixture('school.html'), html);
    const log = memoryLogger('debug');
    await expect(adapter.checkConnection(context({}, log))).resolves.toBeUndefined();
    expect(first.pendingMocks()).toEqual([]);
    expect(again.pendingMocks()).toEqual([]);
    expect(log.text()).toContain('session ended; logging in again');
    expect(log.text()).not.toContain(PASSWORD);
  });
});
