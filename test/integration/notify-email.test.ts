import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChannelError, type OutgoingMessage } from '../../src/notify/channels/contract.js';
import { closeSmtpTransports, SmtpConfigSchema, smtpProvider, type SmtpSecrets } from '../../src/notify/channels/smtp.js';
import { startSmtpSimulator, type SmtpSimulator } from '../../src/notify/simulators/smtp.js';

// The e-mail channel against the SMTP simulator on loopback: real SMTP, real DKIM signatures checked by
// mailauth (an independent verifier) with the test's own public key served by a resolver.

interface DkimResult { signingDomain: string; selector: string; status: { result: string; comment: string | false } }
type DkimVerify = (input: Buffer, options: { resolver: (name: string, type: string) => Promise<string[][]> }) => Promise<{ results: DkimResult[] }>;
// mailauth ships no type declarations: the one function the test needs, typed here.
const { dkimVerify } = createRequire(import.meta.url)('mailauth/lib/dkim/verify.js') as { dkimVerify: DkimVerify };

const DOMAIN = 'school.test';
const SELECTOR = 'jb2026';
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'der' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const resolver = async (name: string, type: string): Promise<string[][]> => {
  if (type === 'TXT' && name === `${SELECTOR}._domainkey.${DOMAIN}`) return [[`v=DKIM1; k=rsa; p=${keys.publicKey.toString('base64')}`]];
  throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
};

const TEXT = 'Здравствуйте! Иван Петров получил «5» по алгебре (контрольная работа).';

let sim: SmtpSimulator;
let calls = 0;

function configFor(server: { host: string; port: number }, overrides: Record<string, unknown> = {}) {
  return SmtpConfigSchema.parse({
    host: server.host,
    port: server.port,
    requireTLS: false,
    allowInsecure: true,
    from: { address: `journal@${DOMAIN}`, name: 'Школа № 1 — электронный журнал' },
    bounceAddress: `bounces@${DOMAIN}`,
    dkim: { domainName: DOMAIN, keySelector: SELECTOR },
    ...overrides,
  });
}

function send(to: string, options: { server?: { host: string; port: number }; secrets?: SmtpSecrets; signal?: AbortSignal; config?: Record<string, unknown>; message?: Partial<OutgoingMessage> } = {}) {
  calls += 1;
  return smtpProvider.send(
    { config: configFor(options.server ?? sim, options.config), secrets: options.secrets ?? { dkimPrivateKey: keys.privateKey }, signal: options.signal ?? new AbortController().signal },
    { clientId: `outbox-${calls}`, to, subject: 'Новая оценка', text: TEXT, ...options.message },
  );
}

/** The send fails with this ChannelError, and its message names neither the address nor the text. */
async function expectFailure(sending: Promise<unknown>, to: string, expected: { kind: string; code?: string; contactUnusable?: boolean }): Promise<ChannelError> {
  const error = await sending.then(() => undefined, (failure: unknown) => failure);
  expect(error).toBeInstanceOf(ChannelError);
  const channelError = error as ChannelError;
  expect({ kind: channelError.kind, code: channelError.code, contactUnusable: channelError.contactUnusable })
    .toEqual({ kind: expected.kind, code: expected.code ?? channelError.code, contactUnusable: expected.contactUnusable ?? false });
  expect(channelError.message).not.toContain(to);
  expect(channelError.message).not.toContain(to.split('@')[0]);
  expect(channelError.message).not.toContain('Иван');
  return channelError;
}

/** Resolves once `condition` holds, checking on every turn of the event loop's timers. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

beforeAll(async () => {
  sim = await startSmtpSimulator();
});

afterAll(async () => {
  closeSmtpTransports();
  await sim.close();
});

describe('smtp provider: a delivered message', () => {
  it('arrives with the bounce address as MAIL FROM, our Message-ID, the caller\'s headers and Cyrillic intact', async () => {
    const subject = 'Оценки за неделю: «5» по алгебре, «4» по физике';
    const headers = { 'List-Unsubscribe': `<https://jb.${DOMAIN}/u/9f2c>, <mailto:unsubscribe@${DOMAIN}?subject=9f2c>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
    const result = await smtpProvider.send(
      { config: configFor(sim), secrets: { dkimPrivateKey: keys.privateKey }, signal: new AbortController().signal },
      { clientId: 'outbox-7f3a.1_b', to: 'parent@family.test', subject, text: TEXT, html: '<p>Здравствуйте! Иван Петров получил <b>«5»</b>.</p>', headers },
    );
    const mail = sim.messages().at(-1);
    expect(mail).toBeDefined();
    expect(result).toEqual({ state: 'accepted', providerMessageId: mail?.id, raw: `250 2.0.0 Ok: queued as ${mail?.id}` });
    expect(mail?.envelope).toEqual({ from: `bounces@${DOMAIN}`, to: ['parent@family.test'] });
    expect(mail?.headers.get('message-id')).toEqual([`<outbox-7f3a.1_b@${DOMAIN}>`]);
    expect(mail?.headers.get('list-unsubscribe')).toEqual([headers['List-Unsubscribe']]);
    expect(mail?.headers.get('list-unsubscribe-post')).toEqual(['List-Unsubscribe=One-Click']);
    expect(mail?.subject).toBe(subject);
    expect(mail?.text?.trim()).toBe(TEXT);
    expect(mail?.html).toContain('Иван Петров получил <b>«5»</b>');
    expect(mail?.headers.get('from')?.[0]).toContain(`<journal@${DOMAIN}>`);
  });

  it('writes the Message-ID of an IDN sender domain in ASCII', async () => {
    await send('parent@family.test', { config: { from: { address: 'journal@школа.рф' }, dkim: undefined }, secrets: {} });
    expect(sim.messages().at(-1)?.headers.get('message-id')).toEqual([`<outbox-${calls}@xn--80atdl2c.xn--p1ai>`]);
  });

  it('reuses one pooled connection for consecutive messages of one configuration', async () => {
    closeSmtpTransports();
    const before = sim.connections();
    for (const to of ['a@family.test', 'b@family.test', 'c@family.test']) await send(to);
    expect(sim.connections() - before).toBe(1);
  });

  it('is DKIM-signed for the school\'s domain, verifies with mailauth, and fails once the body is altered', async () => {
    await send('mother@family.test');
    const mail = sim.messages().at(-1);
    const signature = mail?.headers.get('dkim-signature')?.[0] ?? '';
    expect(signature).toMatch(new RegExp(`(^|;)\\s*d=${DOMAIN.replace('.', '\\.')}\\s*;`));
    expect(signature).toMatch(new RegExp(`(^|;)\\s*s=${SELECTOR}\\s*;`));

    const verified = await dkimVerify(mail?.raw ?? Buffer.alloc(0), { resolver });
    expect(verified.results.map((r) => [r.signingDomain, r.selector, r.status.result])).toEqual([[DOMAIN, SELECTOR, 'pass']]);

    const altered = Buffer.concat([mail?.raw ?? Buffer.alloc(0), Buffer.from('Оценка исправлена на «2».\r\n')]);
    const tampered = await dkimVerify(altered, { resolver });
    expect(tampered.results).toHaveLength(1);
    expect(tampered.results[0]?.status.result).not.toBe('pass');
    expect(tampered.results[0]?.status.comment).toBe('body hash did not verify');
  });
});

describe('smtp provider: refusals by kind', () => {
  it('bad@ (550 5.1.1 at RCPT) is permanent and marks the contact unusable', async () => {
    await expectFailure(send('bad@family.test'), 'bad@family.test', { kind: 'permanent', code: '550 5.1.1', contactUnusable: true });
    expect(sim.attempts('bad@family.test')).toBe(1);
  });

  it('full@ (452 4.2.2) is temporary twice, then the simulator accepts the retry', async () => {
    const before = sim.messages().length;
    await expectFailure(send('full@family.test'), 'full@family.test', { kind: 'temporary', code: '452 4.2.2' });
    await expectFailure(send('full@family.test'), 'full@family.test', { kind: 'temporary', code: '452 4.2.2' });
    await expect(send('full@family.test')).resolves.toMatchObject({ state: 'accepted' });
    expect(sim.attempts('full@family.test')).toBe(3);
    expect(sim.messages().length).toBe(before + 1);
  });

  const replies: Array<[string, 'rcpt' | 'data', number, string, { kind: string; contactUnusable?: boolean }]> = [
    ['DMARC refusal at DATA', 'data', 550, '5.7.26 Unauthenticated email is not accepted due to the sender domain\'s DMARC policy', { kind: 'account' }],
    ['relaying denied', 'rcpt', 550, '5.7.1 Relaying denied', { kind: 'account' }],
    ['Yandex\'s unknown mailbox (5.7.1 worded as no such user)', 'rcpt', 550, '5.7.1 No such user!', { kind: 'permanent', contactUnusable: true }],
    ['message too big', 'data', 552, '5.3.4 Message size exceeds fixed maximum message size', { kind: 'permanent' }],
    ['mailbox full (552 5.2.2)', 'rcpt', 552, '5.2.2 Mailbox full', { kind: 'temporary' }],
    ['mailbox disabled', 'rcpt', 550, '5.2.1 Mailbox disabled, not accepting messages', { kind: 'permanent', contactUnusable: true }],
    ['bad address syntax', 'rcpt', 553, '5.1.3 Bad recipient address syntax', { kind: 'permanent', contactUnusable: true }],
    ['other 5xx at RCPT', 'rcpt', 554, '5.0.0 Recipient refused', { kind: 'permanent', contactUnusable: true }],
    ['greylisting', 'rcpt', 451, '4.7.1 Greylisted, please try again later', { kind: 'temporary' }],
  ];
  it.each(replies)('%s (refused at %s)', async (_name, stage, code, text, expected) => {
    sim.setFaults({ recipients: [{ match: 'probe', stage, reply: { code, text } }] });
    try {
      await expectFailure(send('probe@family.test'), 'probe@family.test', { ...expected, code: `${code} ${text.split(' ')[0]}` });
    } finally {
      sim.setFaults({});
    }
  });

  it('a server refusing every connection (421) is temporary', async () => {
    closeSmtpTransports(); // the pool's open connection was greeted before the fault
    sim.setFaults({ refuse: true });
    try {
      await expectFailure(send('parent@family.test'), 'parent@family.test', { kind: 'temporary', code: '421 4.3.2' });
    } finally {
      sim.setFaults({});
    }
  });

  it('a refused connection (nothing listening) is temporary', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await expectFailure(send('parent@family.test', { server: { host: '127.0.0.1', port } }), 'parent@family.test', { kind: 'temporary' });
  });

  it('an address or header that can never go fails permanently before connecting', async () => {
    await expectFailure(send('Иван <child@family.test>, other@family.test'), 'child@family.test', { kind: 'permanent', code: 'invalid-address', contactUnusable: true });
    await expectFailure(send('child@family.test', { message: { headers: { 'Message-ID': '<x@y>' } } }), 'child@family.test', { kind: 'permanent', code: 'reserved-header' });
    expect(sim.attempts('child@family.test')).toBe(0);
  });
});

describe('smtp provider: login, timeouts and abort', () => {
  let authSim: SmtpSimulator;
  let hangSim: SmtpSimulator;
  beforeAll(async () => {
    authSim = await startSmtpSimulator({ auth: { user: 'school-1', password: 'correct horse' } });
    hangSim = await startSmtpSimulator({ faults: { hangOnData: true } });
  });
  afterAll(async () => {
    closeSmtpTransports();
    await Promise.all([authSim.close(), hangSim.close()]);
  });

  it('a wrong password is an account error (535 5.7.8) that does not show the password; the right one sends', async () => {
    const failure = await expectFailure(send('parent@family.test', { server: authSim, secrets: { user: 'school-1', password: 'wrong battery', dkimPrivateKey: keys.privateKey } }), 'parent@family.test', { kind: 'account', code: '535 5.7.8' });
    expect(failure.message).not.toContain('wrong battery');
    await expect(send('parent@family.test', { server: authSim, secrets: { user: 'school-1', password: 'correct horse', dkimPrivateKey: keys.privateKey } })).resolves.toMatchObject({ state: 'accepted' });
    expect(authSim.messages()).toHaveLength(1);
  });

  it('a server that never answers DATA: the abort signal ends the send as temporary, and the pool recovers', async () => {
    const controller = new AbortController();
    const sending = send('parent@family.test', { server: hangSim, signal: controller.signal });
    await until(() => hangSim.unanswered() === 1);
    controller.abort();
    await expectFailure(sending, 'parent@family.test', { kind: 'temporary', code: 'EABORT' });
    expect(hangSim.messages()).toHaveLength(0);

    hangSim.setFaults({});
    await expect(send('parent@family.test', { server: hangSim })).resolves.toMatchObject({ state: 'accepted' });
    hangSim.setFaults({ hangOnData: true });
  });

  it('a server that never answers DATA and no abort: the socket timeout makes it temporary', async () => {
    await expectFailure(send('parent@family.test', { server: hangSim, config: { timeouts: { socketMs: 300 } } }), 'parent@family.test', { kind: 'temporary', code: 'ETIMEDOUT' });
  });

  it('a slow server still delivers; one slower than the greeting timeout is temporary', async () => {
    const slowSim = await startSmtpSimulator({ faults: { delayMs: 150 } });
    try {
      await expect(send('parent@family.test', { server: slowSim })).resolves.toMatchObject({ state: 'accepted' });
      await expectFailure(send('parent@family.test', { server: slowSim, config: { timeouts: { greetingMs: 20 } } }), 'parent@family.test', { kind: 'temporary', code: 'ETIMEDOUT' });
    } finally {
      closeSmtpTransports();
      await slowSim.close();
    }
  });

  it('DKIM configured without its key is an account error', async () => {
    await expectFailure(send('parent@family.test', { secrets: {} }), 'parent@family.test', { kind: 'account', code: 'dkim-key' });
  });
});

describe('smtp config', () => {
  it('refuses a plain-text session unless allowInsecure says so', () => {
    const base = { host: 'smtp.school.test', from: { address: `journal@${DOMAIN}` }, bounceAddress: `bounces@${DOMAIN}` };
    expect(SmtpConfigSchema.safeParse({ ...base, requireTLS: false }).success).toBe(false);
    expect(SmtpConfigSchema.parse({ ...base })).toMatchObject({ secure: false, requireTLS: true, timeouts: { connectionMs: 10_000, greetingMs: 10_000, socketMs: 20_000 } });
    expect(SmtpConfigSchema.safeParse({ ...base, requireTLS: false, allowInsecure: true }).success).toBe(true);
  });
});
