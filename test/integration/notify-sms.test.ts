import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer } from 'node:net';
import { ChannelError, type ChannelErrorKind, type OutgoingMessage, type SendResult, type StatusResult } from '../../src/notify/channels/contract.js';
import { nikitaMessageId, nikitaProvider } from '../../src/notify/channels/nikita.js';
import { smscProvider } from '../../src/notify/channels/smsc.js';
import { smsRuProvider } from '../../src/notify/channels/smsru.js';
import { startNikitaSimulator } from '../../src/notify/simulators/nikita.js';
import type { SmsGatewaySimulator, TransportFaults } from '../../src/notify/simulators/sms-gateway.js';
import { startSmscSimulator } from '../../src/notify/simulators/smsc.js';
import { startSmsRuSimulator } from '../../src/notify/simulators/smsru.js';

// The three SMS providers against their simulators on loopback: real HTTP, the providers' real code.

type Faults = TransportFaults & { statusCode?: number; errorCode?: number; status?: number };

interface CallOptions {
  timeoutMs?: number;
  badSecrets?: boolean;
  test?: boolean;
  baseUrl?: string;
  signal?: AbortSignal;
}

/** One provider wired to its simulator, with the provider's types erased for the shared table. */
interface Rig {
  sim: SmsGatewaySimulator<Faults>;
  phone: string;
  secrets: string[];
  send(message: OutgoingMessage, options?: CallOptions): Promise<SendResult>;
  status(message: { clientId: string; providerMessageId?: string; to: string }): Promise<StatusResult>;
}

interface Expected {
  kind?: ChannelErrorKind;
  contactUnusable?: boolean;
  duplicate?: boolean;
  raw?: string;
}

interface ProviderCase {
  id: string;
  start(): Promise<Rig>;
  /** Provider faults (gateway codes) and what `send` must make of them. */
  faults: Array<[string, Faults, Expected]>;
}

const signal = () => new AbortController().signal;

const cases: ProviderCase[] = [
  {
    id: 'smsru',
    async start() {
      const sim = await startSmsRuSimulator({ apiId: 'demo-api-id-7F3A' });
      const ctx = (o: CallOptions = {}) => ({
        config: smsRuProvider.configSchema.parse({ baseUrl: o.baseUrl ?? sim.url, from: 'School', test: o.test ?? false, timeoutMs: o.timeoutMs ?? 5_000 }),
        secrets: { api_id: o.badSecrets ? 'wrong-api-id' : 'demo-api-id-7F3A' },
        signal: o.signal ?? signal(),
      });
      return { sim, phone: '+79991234567', secrets: ['demo-api-id-7F3A'], send: (m, o) => smsRuProvider.send(ctx(o), m), status: (m) => smsRuProvider.status!(ctx(), m) };
    },
    faults: [
      ['220 temporarily unavailable', { statusCode: 220 }, { kind: 'temporary' }],
      ['500 server error', { statusCode: 500 }, { kind: 'temporary' }],
      ['201 no funds', { statusCode: 201 }, { kind: 'account' }],
      ['204 sender not approved', { statusCode: 204 }, { kind: 'account' }],
      ['301 auth', { statusCode: 301 }, { kind: 'account' }],
      ['202 bad number', { statusCode: 202 }, { kind: 'permanent', contactUnusable: true }],
      ['207 no route', { statusCode: 207 }, { kind: 'permanent', contactUnusable: true }],
      ['230 per-number daily limit', { statusCode: 230 }, { kind: 'temporary' }],
      ['216 forbidden word', { statusCode: 216 }, { kind: 'permanent', contactUnusable: false }],
    ],
  },
  {
    id: 'smsc',
    async start() {
      const sim = await startSmscSimulator({ login: 'demo-school', psw: 'demo-psw-91c2' });
      const ctx = (o: CallOptions = {}) => ({
        config: smscProvider.configSchema.parse({ baseUrl: o.baseUrl ?? sim.url, sender: 'School', test: o.test ?? false, timeoutMs: o.timeoutMs ?? 5_000 }),
        secrets: { login: 'demo-school', psw: o.badSecrets ? 'wrong-psw' : 'demo-psw-91c2' },
        signal: o.signal ?? signal(),
      });
      return { sim, phone: '+79991234567', secrets: ['demo-psw-91c2'], send: (m, o) => smscProvider.send(ctx(o), m), status: (m) => smscProvider.status!(ctx(), m) };
    },
    faults: [
      ['1 bad parameters', { errorCode: 1 }, { kind: 'permanent', contactUnusable: false }],
      ['2 bad login', { errorCode: 2 }, { kind: 'account' }],
      ['3 no funds', { errorCode: 3 }, { kind: 'account' }],
      ['4 IP blocked', { errorCode: 4 }, { kind: 'rate_limited' }],
      ['5 bad date', { errorCode: 5 }, { kind: 'permanent', contactUnusable: false }],
      ['6 forbidden', { errorCode: 6 }, { kind: 'permanent', contactUnusable: false }],
      ['7 bad number', { errorCode: 7 }, { kind: 'permanent', contactUnusable: true }],
      ['8 cannot deliver', { errorCode: 8 }, { kind: 'permanent', contactUnusable: true }],
      ['9 already sent', { errorCode: 9 }, { duplicate: true, raw: '9' }],
    ],
  },
  {
    id: 'nikita',
    async start() {
      const sim = await startNikitaSimulator({ login: 'demo-school', pwd: 'demo-pwd-5d0e' });
      const ctx = (o: CallOptions = {}) => ({
        config: nikitaProvider.configSchema.parse({ baseUrl: o.baseUrl ?? sim.url, sender: 'SCHOOL.KG', test: o.test ?? false, timeoutMs: o.timeoutMs ?? 5_000 }),
        secrets: { login: 'demo-school', pwd: o.badSecrets ? 'wrong-pwd' : 'demo-pwd-5d0e' },
        signal: o.signal ?? signal(),
      });
      return { sim, phone: '+996555123456', secrets: ['demo-pwd-5d0e'], send: (m, o) => nikitaProvider.send(ctx(o), m), status: (m) => nikitaProvider.status!(ctx(), m) };
    },
    faults: [
      ['1 bad format', { status: 1 }, { kind: 'permanent', contactUnusable: false }],
      ['2 bad auth', { status: 2 }, { kind: 'account' }],
      ['3 IP not allowed', { status: 3 }, { kind: 'account' }],
      ['4 no funds', { status: 4 }, { kind: 'account' }],
      ['5 sender not approved', { status: 5 }, { kind: 'account' }],
      ['6 stop words', { status: 6 }, { kind: 'permanent', contactUnusable: false }],
      ['7 bad number', { status: 7 }, { kind: 'permanent', contactUnusable: true }],
      ['8 bad time', { status: 8 }, { kind: 'permanent', contactUnusable: false }],
      ['9 spam filter', { status: 9 }, { kind: 'permanent', contactUnusable: false }],
      ['10 repeated id', { status: 10 }, { duplicate: true, raw: '10' }],
      ['11 test mode', { status: 11 }, { raw: '11' }],
    ],
  },
];

const TEXT = 'Иванов Пётр: «5» по алгебре, контрольная работа. Ё, ъ, emoji 👍 & <теги>';
let counter = 0;
const clientId = () => `msg-${Date.now().toString(36)}.${(counter += 1)}`;

/** The ChannelError `promise` rejects with (fails the test when it resolves). */
async function channelError(promise: Promise<unknown>): Promise<ChannelError> {
  const outcome = await promise.then(() => undefined, (error: unknown) => error);
  expect(outcome).toBeInstanceOf(ChannelError);
  return outcome as ChannelError;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe.each(cases)('$id', ({ start, faults }) => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await start();
  });
  afterAll(async () => {
    await rig.sim.close();
  });
  const reset = () => rig.sim.setFaults({});

  const expectClean = (error: ChannelError) => {
    for (const secret of [...rig.secrets, rig.phone, rig.phone.slice(1), TEXT]) expect(error.message).not.toContain(secret);
  };

  test('a Cyrillic message is accepted, arrives intact in UTF-8, and is delivered after deliverAll', async () => {
    reset();
    const id = clientId();
    const before = rig.sim.messages().length;
    const sent = await rig.send({ clientId: id, to: rig.phone, text: TEXT });
    expect(sent.state).toBe('accepted');
    expect(sent.duplicate).toBeUndefined();
    expect(sent.providerMessageId).toEqual(expect.any(String));
    const messages = rig.sim.messages();
    expect(messages).toHaveLength(before + 1);
    const stored = messages.at(-1)!;
    expect(stored).toMatchObject({ id: sent.providerMessageId, phone: rig.phone.slice(1), text: TEXT, state: 'queued' });
    const ask = { clientId: id, providerMessageId: sent.providerMessageId, to: rig.phone };
    expect(await rig.status(ask)).toMatchObject({ state: 'accepted', final: false });
    rig.sim.deliverAll();
    expect(await rig.status(ask)).toMatchObject({ state: 'delivered', final: true });
  });

  test('a message the operator could not deliver is failed and final', async () => {
    reset();
    const id = clientId();
    const sent = await rig.send({ clientId: id, to: rig.phone, text: 'Пропуск урока' });
    rig.sim.setDelivery(sent.providerMessageId!, 'failed');
    expect(await rig.status({ clientId: id, providerMessageId: sent.providerMessageId, to: rig.phone })).toMatchObject({ state: 'failed', final: true });
  });

  test.each(faults)('gateway code %s', async (_name, fault, expected) => {
    rig.sim.setFaults(fault);
    const calls = rig.sim.calls().length;
    const messages = rig.sim.messages().length;
    if (expected.kind === undefined) {
      const sent = await rig.send({ clientId: clientId(), to: rig.phone, text: TEXT });
      expect(sent).toMatchObject({ state: 'accepted', ...(expected.duplicate ? { duplicate: true } : {}), ...(expected.raw ? { raw: expected.raw } : {}) });
    } else {
      const error = await channelError(rig.send({ clientId: clientId(), to: rig.phone, text: TEXT }));
      expect(error.kind).toBe(expected.kind);
      if (expected.contactUnusable !== undefined) expect(error.contactUnusable).toBe(expected.contactUnusable);
      expect(error.code).toEqual(expect.any(String));
      if (expected.kind === 'rate_limited') expect(error.retryAfterMs).toBeGreaterThan(0);
      expectClean(error);
    }
    expect(rig.sim.calls().length - calls).toBe(1);
    expect(rig.sim.messages()).toHaveLength(messages);
    reset();
  });

  test('bad credentials → account error, nothing sent', async () => {
    reset();
    const messages = rig.sim.messages().length;
    const error = await channelError(rig.send({ clientId: clientId(), to: rig.phone, text: TEXT }, { badSecrets: true }));
    expect(error.kind).toBe('account');
    expectClean(error);
    expect(error.message).not.toContain('wrong-');
    expect(rig.sim.messages()).toHaveLength(messages);
  });

  test('HTTP 500 → temporary', async () => {
    rig.sim.setFaults({ http500: true });
    const error = await channelError(rig.send({ clientId: clientId(), to: rig.phone, text: TEXT }));
    expect(error).toMatchObject({ kind: 'temporary', code: 'http_500' });
    expectClean(error);
    reset();
  });

  test('a gateway that never answers → temporary after timeoutMs', async () => {
    rig.sim.setFaults({ hang: true });
    const error = await channelError(rig.send({ clientId: clientId(), to: rig.phone, text: TEXT }, { timeoutMs: 200 }));
    expect(error).toMatchObject({ kind: 'temporary', code: 'timeout' });
    reset();
  });

  test('a slow gateway past timeoutMs → temporary; within it → accepted', async () => {
    rig.sim.setFaults({ delayMs: 400 });
    const error = await channelError(rig.send({ clientId: clientId(), to: rig.phone, text: TEXT }, { timeoutMs: 100 }));
    expect(error).toMatchObject({ kind: 'temporary', code: 'timeout' });
    rig.sim.setFaults({ delayMs: 50 });
    expect(await rig.send({ clientId: clientId(), to: rig.phone, text: TEXT }, { timeoutMs: 10_000 })).toMatchObject({ state: 'accepted' });
    reset();
  });

  test('the caller aborting → temporary, aborted', async () => {
    rig.sim.setFaults({ hang: true });
    const controller = new AbortController();
    const calls = rig.sim.calls().length;
    const pending = channelError(rig.send({ clientId: clientId(), to: rig.phone, text: TEXT }, { signal: controller.signal }));
    // Abort once the gateway has the request: wait on the simulator's log, not on a clock.
    while (rig.sim.calls().length === calls) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    expect(await pending).toMatchObject({ kind: 'temporary', code: 'aborted' });
    reset();
  });

  test('nothing listening → temporary network error', async () => {
    reset();
    const error = await channelError(rig.send({ clientId: clientId(), to: rig.phone, text: TEXT }, { baseUrl: `http://127.0.0.1:${await closedPort()}` }));
    expect(error).toMatchObject({ kind: 'temporary', code: 'ECONNREFUSED' });
  });

  test('a recipient that is not E.164 is unusable and never reaches the gateway', async () => {
    reset();
    const calls = rig.sim.calls().length;
    const error = await channelError(rig.send({ clientId: clientId(), to: '8 999 123-45-67', text: TEXT }));
    expect(error).toMatchObject({ kind: 'permanent', contactUnusable: true });
    expect(error.message).not.toContain('999');
    expect(rig.sim.calls()).toHaveLength(calls);
  });

  test('the status of a message the gateway does not know is unknown, not final', async () => {
    reset();
    const status = await rig.status({ clientId: 'unknown1', providerMessageId: 'unknown1', to: rig.phone });
    expect(status).toMatchObject({ state: 'unknown', final: false });
  });

  test('test mode: answered, nothing stored', async () => {
    reset();
    const messages = rig.sim.messages().length;
    expect(await rig.send({ clientId: clientId(), to: rig.phone, text: TEXT }, { test: true })).toMatchObject({ state: 'accepted' });
    expect(rig.sim.messages()).toHaveLength(messages);
  });
});

describe('demo delivery', () => {
  test('with deliverAfterMs a message becomes delivered on its own', async () => {
    const sim = await startSmsRuSimulator({ apiId: 'demo', deliverAfterMs: 0 });
    try {
      const ctx = { config: smsRuProvider.configSchema.parse({ baseUrl: sim.url }), secrets: { api_id: 'demo' }, signal: signal() };
      const sent = await smsRuProvider.send(ctx, { clientId: 'd1', to: '+79991234567', text: 'Демо' });
      while (sim.messages()[0]?.state !== 'delivered') await new Promise((resolve) => setImmediate(resolve));
      expect(await smsRuProvider.status!(ctx, { clientId: 'd1', providerMessageId: sent.providerMessageId, to: '+79991234567' })).toEqual({ state: 'delivered', final: true, raw: '103' });
    } finally {
      await sim.close();
    }
  });
});

describe('client ids and resends', () => {
  test('SMSC: the same id again → error 9 → duplicate; the simulator holds one message', async () => {
    const rig = await cases[1]!.start();
    try {
      const message = { clientId: 'outbox-42.attempt_1-x', to: rig.phone, text: TEXT };
      const first = await rig.send(message);
      const again = await rig.send(message);
      expect(first).toMatchObject({ providerMessageId: 'outbox-42.attempt_1-x', state: 'accepted' });
      expect(again).toMatchObject({ providerMessageId: 'outbox-42.attempt_1-x', duplicate: true, state: 'accepted', raw: '9' });
      expect(rig.sim.calls()).toHaveLength(2);
      expect(rig.sim.calls()[1]!.params).toMatchObject({ id: 'outbox-42.attempt_1-x', charset: 'utf-8', fmt: '3' });
      expect(rig.sim.messages()).toHaveLength(1);
      rig.sim.deliverAll();
      expect(await rig.status({ clientId: message.clientId, providerMessageId: again.providerMessageId, to: rig.phone })).toMatchObject({ state: 'delivered', final: true });
    } finally {
      await rig.sim.close();
    }
  });

  test('Nikita: a 40-character client id goes as a stable 12-character id; a resend → status 10 → duplicate', async () => {
    const rig = await cases[2]!.start();
    try {
      const long = 'outbox_0123456789.abcdefghij-0123456789a';
      expect(long).toHaveLength(40);
      const derived = nikitaMessageId(long);
      expect(derived).toMatch(/^[a-z0-9]{12}$/);
      expect(nikitaMessageId(long)).toBe(derived);
      expect(nikitaMessageId('outbox_0123456789.abcdefghij-0123456789b')).not.toBe(derived);
      expect(nikitaMessageId('abc123XYZ')).toBe('abc123XYZ');
      const message = { clientId: long, to: rig.phone, text: TEXT };
      const first = await rig.send(message);
      const again = await rig.send(message);
      expect(first).toMatchObject({ providerMessageId: derived, state: 'accepted', raw: '0' });
      expect(again).toMatchObject({ providerMessageId: derived, duplicate: true, state: 'accepted' });
      expect(rig.sim.messages()).toHaveLength(1);
      expect(rig.sim.calls().map((call) => call.params.id)).toEqual([derived, derived]);
    } finally {
      await rig.sim.close();
    }
  });

  test('SMS.ru takes no client id: each send is a new SMS (the outbox must ask status, not resend)', async () => {
    const rig = await cases[0]!.start();
    try {
      const message = { clientId: 'outbox-7', to: rig.phone, text: 'Привет' };
      const first = await rig.send(message);
      const again = await rig.send(message);
      expect(again.providerMessageId).not.toBe(first.providerMessageId);
      expect(rig.sim.messages()).toHaveLength(2);
      expect(rig.sim.calls()[0]!.params).not.toHaveProperty('id');
    } finally {
      await rig.sim.close();
    }
  });
});
