// The e-mail channel over SMTP with nodemailer 10.6. Shapes from:
// - nodemailer.com/dkim (`dkim: {domainName, keySelector, privateKey}` per message) and nodemailer.com/usage
//   (the `info` of sendMail: `response` is the final 250 reply, `rejected` / `rejectedErrors`); the 10.x
//   typings in node_modules/nodemailer/dist (`signal` per send since 10.5, `responseCode`, `command`
//   'RCPT TO' / 'MAIL FROM' / 'DATA' / 'AUTH …' / 'CONN' on errors, codes EENVELOPE, EMESSAGE, EAUTH, EABORT…);
// - RFC 3463 / RFC 5321 for the enhanced codes and 4xx/5xx classes (552 at RCPT is 452, §4.5.3.1.10);
// - the suppression rules of /work/shared/channels.md "E-mail", and real senders that suppress on an inline
//   `550 5.1.1` at RCPT (mohamedboukari/bunmail#68, goposta/posta#86) instead of retrying it.
// Postfix answers `250 2.0.0 Ok: queued as <ID>` (nodemailer/nodemailer#602): the queue id is the provider id.
// Yandex's MX answers an unknown mailbox with `550 5.7.1 No such user!` at RCPT (yandex/NwSMTP
// smtp_connection.cpp): a 5.7.1 saying so is a dead mailbox, not a policy refusal of our account.
import { createHash, createPrivateKey } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { createTransport } from 'nodemailer';
import { z } from 'zod';
import { ChannelError, type ChannelContext, type ChannelProvider, type OutgoingMessage, type SendResult } from './contract.js';

const EmailSchema = z.email({ pattern: z.regexes.unicodeEmail });
const DomainSchema = z.string().trim().toLowerCase().regex(/^(?=.{1,253}$)([\p{L}\p{N}_-]+\.)+[\p{L}\p{N}-]+$/u, 'expected a domain name');

/** The SMTP connection of a school (no secrets: those are `SmtpSecrets`). */
export const SmtpConfigSchema = z.object({
  host: z.string().trim().min(1),
  /** Default 465 with `secure`, else 587. */
  port: z.number().int().min(1).max(65_535).optional(),
  /** Implicit TLS from the first byte (port 465). */
  secure: z.boolean().default(false),
  /** Without `secure`: refuse to go on unless the server takes STARTTLS. */
  requireTLS: z.boolean().default(true),
  /** A plain-text session (neither `secure` nor `requireTLS`): only for a loopback or demo server. */
  allowInsecure: z.boolean().default(false),
  from: z.object({ address: EmailSchema, name: z.string().trim().min(1).max(200).optional() }),
  /** The envelope MAIL FROM: a dedicated bounce mailbox (bounces@school-domain), where DSNs arrive. */
  bounceAddress: EmailSchema,
  replyTo: EmailSchema.optional(),
  /** Sign with DKIM on the sender's domain (the key is the `dkimPrivateKey` secret). */
  dkim: z.object({ domainName: DomainSchema, keySelector: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'expected a DKIM selector') }).optional(),
  timeouts: z.object({
    connectionMs: z.number().int().positive().default(10_000),
    greetingMs: z.number().int().positive().default(10_000),
    socketMs: z.number().int().positive().default(20_000),
  }).prefault({}),
}).refine((config) => config.secure || config.requireTLS || config.allowInsecure, {
  message: 'a plain-text SMTP session needs allowInsecure (loopback or demo servers only): set secure or requireTLS',
  path: ['allowInsecure'],
});

/** A parsed SMTP config, defaults applied. */
export type SmtpConfig = z.infer<typeof SmtpConfigSchema>;

/** Secrets of the SMTP connection, all optional (the demo server has no AUTH and no DKIM). */
export type SmtpSecrets = Partial<Record<'user' | 'password' | 'dkimPrivateKey', string>>;

/** Headers the provider sets itself: a caller's value would replace the sender, the id or the MIME structure. */
const RESERVED_HEADERS = new Set(['from', 'sender', 'to', 'cc', 'bcc', 'reply-to', 'subject', 'message-id', 'date', 'return-path',
  'dkim-signature', 'mime-version', 'content-type', 'content-transfer-encoding']);
const CLIENT_ID = /^[A-Za-z0-9._-]{1,40}$/;
/** One mailbox, nothing nodemailer would read as a display name, a group or a list. */
const SINGLE_ADDRESS = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\]+$/u;
/** Enhanced codes that say the mailbox does not exist or cannot take mail (channels.md "E-mail"): suppress it. */
const DEAD_MAILBOX = new Set(['5.1.1', '5.1.2', '5.1.3', '5.1.6', '5.1.10', '5.2.1']);

/** The `smtp` provider of the e-mail channel. */
export const smtpProvider: ChannelProvider<SmtpConfig, SmtpSecrets> = {
  id: 'smtp',
  channel: 'email',
  title: 'E-mail (SMTP)',
  configSchema: SmtpConfigSchema,
  secretKeys: ['user', 'password', 'dkimPrivateKey'],
  send: sendMail,
};

/**
 * Sends one message: Message-ID `<clientId@from-domain>` (the same on every attempt, so a resend is
 * recognisable), envelope from the bounce address to the one recipient, DKIM-signed when configured.
 * Resolves when the server said 250; every failure is a ChannelError (see `classifySmtpError`).
 */
async function sendMail(ctx: ChannelContext<SmtpConfig, SmtpSecrets>, message: OutgoingMessage): Promise<SendResult> {
  const config = parseConfig(ctx.config);
  const endpoint = `${config.host}:${portOf(config)}`;
  checkMessage(message, endpoint);
  const transporter = transporterFor(config, ctx.secrets, endpoint);
  try {
    const info = await transporter.sendMail({
      from: config.from.name ? { name: config.from.name, address: config.from.address } : config.from.address,
      to: message.to,
      replyTo: config.replyTo,
      envelope: { from: config.bounceAddress, to: [message.to] },
      messageId: messageIdOf(message.clientId, config.from.address),
      subject: message.subject ?? '',
      text: message.text,
      html: message.html,
      headers: message.headers,
      dkim: config.dkim ? { ...config.dkim, privateKey: ctx.secrets.dkimPrivateKey ?? '' } : undefined,
      signal: ctx.signal,
    });
    if (info.rejected.length > 0) throw new ChannelError('permanent', `smtp ${endpoint}: RCPT TO refused`, { contactUnusable: true });
    const response = info.response;
    return { state: 'accepted', providerMessageId: /queued as ([A-Za-z0-9._-]+)/i.exec(response)?.[1] ?? info.serverMessageId ?? response, raw: response };
  } catch (error) {
    throw classifySmtpError(error, endpoint, ctx.signal);
  }
}

function parseConfig(raw: unknown): SmtpConfig {
  const parsed = SmtpConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))].join(', ');
  throw new ChannelError('account', `smtp: invalid configuration (${fields})`, { code: 'config' });
}

/** Rejects what can never be sent, before connecting: a malformed address or client id, a reserved header. */
function checkMessage(message: OutgoingMessage, endpoint: string): void {
  if (!SINGLE_ADDRESS.test(message.to)) throw new ChannelError('permanent', `smtp ${endpoint}: not a single e-mail address`, { code: 'invalid-address', contactUnusable: true });
  if (!CLIENT_ID.test(message.clientId)) throw new ChannelError('permanent', `smtp ${endpoint}: client id is not [A-Za-z0-9._-]{1,40}`, { code: 'invalid-client-id' });
  const reserved = Object.keys(message.headers ?? {}).filter((name) => RESERVED_HEADERS.has(name.toLowerCase()));
  if (reserved.length > 0) throw new ChannelError('permanent', `smtp ${endpoint}: headers set by the provider itself: ${reserved.join(', ')}`, { code: 'reserved-header' });
}

/**
 * Maps a nodemailer failure to a ChannelError (channels.md "E-mail"); the message names the endpoint, the
 * SMTP stage and the code, never the server's text (it may quote the address).
 */
function classifySmtpError(error: unknown, endpoint: string, signal: AbortSignal): ChannelError {
  if (error instanceof ChannelError) return error;
  const failure = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; responseCode?: unknown; response?: unknown; command?: unknown; name?: unknown };
  const code = typeof failure.code === 'string' ? failure.code : undefined;
  const command = typeof failure.command === 'string' ? failure.command.toUpperCase() : '';
  const stage = command.startsWith('AUTH') ? 'AUTH' : command || 'CONN';
  if (signal.aborted || code === 'EABORT' || failure.name === 'AbortError') {
    return new ChannelError('temporary', `smtp ${endpoint}: send aborted at ${stage}`, { code: 'EABORT' });
  }
  const reply = typeof failure.responseCode === 'number' ? failure.responseCode : undefined;
  const enhanced = typeof failure.response === 'string' ? /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})(?!\S)/.exec(failure.response)?.[1] : undefined;
  const smtpCode = reply === undefined ? code ?? 'unknown' : [reply, enhanced].filter(Boolean).join(' ');
  const describe = (what: string) => `smtp ${endpoint}: ${what} at ${stage} (${smtpCode})`;
  if (code === 'EAUTH' || code === 'ENOAUTH') return new ChannelError('account', describe('login refused'), { code: smtpCode });
  if (reply === undefined) {
    // A refused TLS handshake or a missing STARTTLS does not heal by retrying: the operator must look.
    if (code === 'ETLS' || code === 'EREQUIRETLS') return new ChannelError('account', describe('TLS failed'), { code: smtpCode });
    return new ChannelError('temporary', describe('connection failed'), { code: smtpCode });
  }
  return classifyReply({ reply, enhanced, text: typeof failure.response === 'string' ? failure.response : '', atRcpt: stage === 'RCPT TO' }, describe, smtpCode);
}

/** A reply at RCPT that words a policy code as an unknown mailbox (Yandex: `550 5.7.1 No such user!`). */
const NO_SUCH_USER = /no such user|user unknown|unknown user/i;

function classifyReply({ reply, enhanced, text, atRcpt }: { reply: number; enhanced?: string; text: string; atRcpt: boolean }, describe: (what: string) => string, code: string): ChannelError {
  if (enhanced === '5.2.2' || (reply === 552 && !enhanced && atRcpt)) return new ChannelError('temporary', describe('mailbox full'), { code });
  if (reply < 500 || reply === 503) return new ChannelError('temporary', describe('deferred'), { code });
  if ((enhanced && DEAD_MAILBOX.has(enhanced)) || (atRcpt && reply >= 500 && NO_SUCH_USER.test(text))) return new ChannelError('permanent', describe('mailbox unusable'), { code, contactUnusable: true });
  if (enhanced?.startsWith('5.7.') || [530, 534, 535, 538].includes(reply)) return new ChannelError('account', describe('refused by sender policy or authentication'), { code });
  if (enhanced === '5.3.4' || (reply === 552 && !enhanced)) return new ChannelError('permanent', describe('message too big'), { code });
  if (atRcpt) return new ChannelError('permanent', describe('recipient refused'), { code, contactUnusable: true });
  return new ChannelError('permanent', describe('refused'), { code });
}

type Transporter = ReturnType<typeof buildTransporter>;

interface PoolEntry {
  transporter: Transporter;
  timer: ReturnType<typeof setTimeout>;
}

/** Transporters idle this long are closed (their pooled connections with them). */
const IDLE_MS = 60_000;
const pools = new Map<string, PoolEntry>();

/**
 * One pooled transporter per (config, secrets), keyed by a hash of both: a digest of 1,000 parents reuses
 * a couple of connections instead of a TCP + TLS + AUTH handshake per message, and a changed password or
 * key builds a new one. Closed after IDLE_MS without sends, or by `closeSmtpTransports`.
 */
function transporterFor(config: SmtpConfig, secrets: SmtpSecrets, endpoint: string): Transporter {
  const key = createHash('sha256').update(JSON.stringify([config, secrets.user ?? null, secrets.password ?? null, secrets.dkimPrivateKey ?? null])).digest('hex');
  const entry = pools.get(key);
  if (entry) clearTimeout(entry.timer);
  const transporter = entry?.transporter ?? buildTransporter(config, secrets, endpoint);
  const timer = setTimeout(() => {
    pools.delete(key);
    transporter.close();
  }, IDLE_MS);
  timer.unref();
  pools.set(key, { transporter, timer });
  return transporter;
}

function buildTransporter(config: SmtpConfig, secrets: SmtpSecrets, endpoint: string) {
  checkSecrets(config, secrets, endpoint);
  return createTransport({
    pool: true,
    maxConnections: 2,
    maxMessages: 100,
    host: config.host,
    port: portOf(config),
    secure: config.secure,
    requireTLS: !config.secure && config.requireTLS,
    auth: secrets.user ? { user: secrets.user, pass: secrets.password ?? '' } : undefined,
    connectionTimeout: config.timeouts.connectionMs,
    greetingTimeout: config.timeouts.greetingMs,
    socketTimeout: config.timeouts.socketMs,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
}

/** Credentials that cannot work are the account's problem, not the message's. */
function checkSecrets(config: SmtpConfig, secrets: SmtpSecrets, endpoint: string): void {
  if (secrets.password && !secrets.user) throw new ChannelError('account', `smtp ${endpoint}: a password without a user`, { code: 'config' });
  if (!config.dkim) return;
  if (!secrets.dkimPrivateKey) throw new ChannelError('account', `smtp ${endpoint}: DKIM configured without the dkimPrivateKey secret`, { code: 'dkim-key' });
  try {
    createPrivateKey(secrets.dkimPrivateKey);
  } catch {
    throw new ChannelError('account', `smtp ${endpoint}: dkimPrivateKey is not a PEM private key`, { code: 'dkim-key' });
  }
}

/** Closes every pooled transporter (shutdown, and the end of a test file). */
export function closeSmtpTransports(): void {
  for (const { transporter, timer } of pools.values()) {
    clearTimeout(timer);
    transporter.close();
  }
  pools.clear();
}

function portOf(config: SmtpConfig): number {
  return config.port ?? (config.secure ? 465 : 587);
}

/** `<clientId@from-domain>`, an IDN domain in its A-label form (школа.рф → xn--80atdl2c.xn--p1ai): a Message-ID is ASCII. */
function messageIdOf(clientId: string, from: string): string {
  const domain = from.slice(from.lastIndexOf('@') + 1).toLowerCase();
  return `<${clientId}@${domainToASCII(domain) || domain}>`;
}
