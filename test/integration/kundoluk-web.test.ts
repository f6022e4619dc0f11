import { describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { WEB_JOURNAL } from '../../adapters/kundoluk/endpoints.js';
import { classOfCaption, LOGIN_REFUSED, splitName } from '../../adapters/kundoluk/web-pages.js';
import type { SourceBatch } from '../../src/ports/adapter.js';
import { ACCOUNTS, adapter, CONFIG, fixture, kundolukOffline, loginBoth, ofType } from './kundoluk-offline.js';

/**
 * The legacy web journal (kundoluk.edu.kg), replayed with nock from pages re-authored after the public
 * scrapers (test/fixtures/kundoluk/README.md): the form login (302 + session cookie, or the login page
 * with «Пользователя с такими данными не найдено.»), the class journal `journal2?class=&quarter=` with
 * its subject links, and the first subject's page with the pupil table `table.elementFixed-striped`.
 */
const WEB = 'https://kundoluk-web.example.test';
const TEACHER = { baseUrl: `${WEB}/`, login: 'toktogulova.g', password: 'Мугалим#2025', classes: [{ id: '91349', name: '7А' }, { id: 91350, name: '7 «Б»' }] };
const config = { ...CONFIG, teacher: TEACHER };
const html = { 'Content-Type': 'text/html; charset=utf-8' };
const FORM = { login: TEACHER.login, password: TEACHER.password, language: 'ru', type: 'default' };

const context = kundolukOffline({ teacher: TEACHER });

function signIn(scope: nock.Scope, session: string): nock.Scope {
  return scope.post('/account/login', FORM).reply(302, 'Found', { ...html, Location: '/', 'Set-Cookie': [`session=${session}; Path=/; HttpOnly`, 'language=ru; Path=/'] });
}

/** The class journals of quarter 1 and their first subjects' pages (the links point at kundoluk.edu.kg; the adapter stays on its own host). */
function pages(session: string): nock.Scope {
  return nock(WEB, { reqheaders: { cookie: `session=${session}; language=ru` } })
    .get('/journal2').query({ class: '91349', quarter: '1' }).reply(200, fixture('web-journal2-class-91349.html'), html)
    .get('/journal2').query({ class: '91349', quarter: '1', subject: '10449' }).reply(200, fixture('web-journal2-subject-91349.html'), html)
    .get('/journal2').query({ class: '91350', quarter: '1' }).reply(200, fixture('web-journal2-class-91350.html'), html)
    .get('/journal2').query({ class: '91350', quarter: '1', subject: '10449' }).reply(200, fixture('web-journal2-subject-91350.html'), html);
}

async function roster(ctx: ReturnType<typeof context>['ctx']): Promise<SourceBatch[]> {
  const batches: SourceBatch[] = [];
  for await (const batch of adapter.streams.roster!.read(ctx)) batches.push(batch);
  return batches;
}

describe('Kundoluk web journal roster', () => {
  it('signs in (302 + session cookie), reads one subject page per class, and lists the pupils without an account too', async () => {
    const auth = loginBoth();
    const web = signIn(nock(WEB), 's3ss10n-1');
    const read = pages('s3ss10n-1');
    const { ctx, log } = context();
    const batches = await roster(ctx);
    for (const scope of [auth, web, read]) expect(scope.pendingMocks()).toEqual([]);
    for (const secret of [TEACHER.password, TEACHER.login, 's3ss10n-1', ...ACCOUNTS.map((a) => a.password)]) expect(log.text()).not.toContain(secret);

    // First the periods and classes (7Б from the web journal only), and the web ids of the pupils with accounts retired.
    const [first, second] = batches;
    expect(batches).toHaveLength(2);
    expect(ofType(first!.records, 'class').map((c) => [c.externalId, c.name])).toEqual([['7А', '7А'], ['7Б', '7Б']]);
    expect(first!.goneIds).toHaveLength(2);
    expect(first!.goneIds!.every((g) => g.type === 'person' && /^web-[0-9a-f]{16}$/.test(g.externalId))).toBe(true);

    const pupils = ofType(second!.records, 'person').map((p) => [p.externalId.startsWith('web-') ? 'web' : p.externalId, p.classExternalId, p.lastName, p.firstName, p.middleName]);
    expect(pupils).toEqual([
      // The accounts' pupils by the API's id: Асанов and «ИВАНОВА Алина» of the table are they (same class and name).
      ['7b2d4e10-0000-4000-8000-000000000001', '7А', 'Асанов', 'Бакыт', 'Нурланович'],
      ['7b2d4e10-0000-4000-8000-000000000002', '7А', 'Иванова', 'Алина', 'Сергеевна'],
      // Without an account: a Kyrgyz surname «… уулу», a patronymic «… кызы», a row linking to the pupil's journal.
      ['web', '7А', 'Бакытбек уулу', 'Нурсултан', undefined],
      ['web', '7А', 'Жумабаева', 'Айпери', 'Нурбек кызы'],
      ['web', '7А', 'Кадыров', 'Эрлан', 'Маратович'],
      ['web', '7Б', 'Осмонова', 'Элиза', 'Таалайбековна'],
      ['web', '7Б', 'Сыдыков', 'Адилет', undefined],
    ]);
    expect(ofType(second!.records, 'person').find((p) => p.lastName === 'Кадыров')!.externalId).toBe('web-28984301');
    expect(ofType(second!.records, 'enrollment')).toHaveLength(7);
    // The empty row is skipped; the two «Осмонов Тимур» of 7А, which nothing tells apart, are left out.
    expect(log.text()).toContain('"skipped":1');
    expect(log.text()).toContain('"ambiguous":2');
    expect(log.text()).toContain('"withAccount":2,"withoutAccount":5');
  });

  it('gives a pupil without an account the same id on every run', async () => {
    const ids: string[][] = [];
    for (const session of ['a', 'b']) {
      loginBoth();
      signIn(nock(WEB), session);
      pages(session);
      const batches = await roster(context().ctx);
      ids.push(ofType(batches[1]!.records, 'person').map((p) => p.externalId));
    }
    expect(ids[1]).toEqual(ids[0]);
  });

  it('turns the login page\'s «Пользователя с такими данными не найдено.» into an auth error', async () => {
    loginBoth();
    const web = nock(WEB).post('/account/login', FORM).reply(200, fixture('web-login-refused.html'), html);
    const failure = await adapter.checkConnection(context().ctx).catch((e: unknown) => e);
    expect(web.isDone()).toBe(true);
    expect(failure).toMatchObject({ kind: 'auth', message: `the Kundoluk web journal refused the login: «${LOGIN_REFUSED[0]}» (wrong login or password)` });
  });

  it('logs in again when a page sends it to the login form, and goes on', async () => {
    loginBoth();
    const web = signIn(signIn(nock(WEB), 'old'), 'new');
    const ended = nock(WEB, { reqheaders: { cookie: 'session=old; language=ru' } })
      .get('/journal2').query({ class: '91349', quarter: '1' }).reply(302, '', { Location: '/account/login?ReturnUrl=%2Fjournal2' });
    const read = pages('new');
    const batches = await roster(context().ctx);
    for (const scope of [web, ended, read]) expect(scope.pendingMocks()).toEqual([]);
    expect(ofType(batches.flatMap((b) => b.records), 'person')).toHaveLength(7);
  });

  it('fails as permanent, naming the element, when a subject page has no pupil table', async () => {
    loginBoth();
    signIn(nock(WEB), 's');
    nock(WEB).get('/journal2').query({ class: '91349', quarter: '1' }).reply(200, fixture('web-journal2-class-91349.html'), html)
      .get('/journal2').query(true).reply(200, fixture('web-journal2-class-91350.html'), html);
    const failure = await roster(context().ctx).catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'permanent', message: 'Kundoluk GET /journal2: table.elementFixed-striped: the first subject page of class journal 91349 has no pupil table' });
    expect(() => WEB_JOURNAL.parse('<html><body><p>Барак табылган жок</p></body></html>'))
      .toThrow('Kundoluk GET /journal2: (the answer): neither ul.uk-subnav a (subject links) nor table.elementFixed-striped (pupils)');
  });

  it('reads class captions and Kyrgyz names', () => {
    expect(['7А', '7 а', '7-А', '7 «Б» класс', '11A', '7 класс', 'Ийрим'].map(classOfCaption)).toEqual([
      { grade: 7, letter: 'А' }, { grade: 7, letter: 'А' }, { grade: 7, letter: 'А' }, { grade: 7, letter: 'Б' }, { grade: 11, letter: 'А' }, { grade: 7 }, undefined,
    ]);
    expect(splitName('Бакытбек уулу Нурсултан')).toEqual({ lastName: 'Бакытбек уулу', firstName: 'Нурсултан' });
    expect(splitName(' Жумабаева Айпери  Нурбек кызы ')).toEqual({ lastName: 'Жумабаева', firstName: 'Айпери', middleName: 'Нурбек кызы' });
    expect(splitName('Асанов')).toBeUndefined();
  });

  it('refuses a web journal configuration without class journals or with a class name without its grade', () => {
    expect(adapter.configSchema.safeParse({ ...config, teacher: { ...TEACHER, classes: [] } }).success).toBe(false);
    expect(adapter.configSchema.safeParse({ ...config, teacher: { ...TEACHER, classes: [{ id: '91349', name: 'А класс' }] } }).success).toBe(false);
  });
});
