// A local SMTP server for the demo and the tests: smtp-server 3.21 (nodemailer.com/extras/smtp-server) with
// per-recipient replies from `onRcptTo` / `onData` errors carrying `responseCode`, the pattern of
// digipost/smtp-test-server-node (a reply chosen by the recipient's local part: 421, 450, 452, 552, 550).
// Reply texts follow Postfix and Gmail: `550 5.1.1 … User unknown`, `452 4.2.2 Mailbox full`,
// `550 5.7.26 … DMARC`, `250 2.0.0 Ok: queued as <ID>` (enhanced codes of RFC 3463, written into the text
// because smtp-server's own ENHANCEDSTATUSCODES mode would prefix one fixed code per reply code).
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

/** An SMTP reply: the code and the text after it (which starts with the enhanced status code). */
export interface SmtpReply {
  code: number;
  text: string;
}

/** A reply for recipients that match, at RCPT TO (the default) or at the end of DATA. */
export interface SmtpRecipientFault {
  /** A local part (`bad`), a whole address (`bad@school.test`) or a pattern of the whole address; case-insensitive. */
  match: string | RegExp;
  reply: SmtpReply;
  /** Only the first N attempts per address get the reply, later ones are accepted; absent: every attempt. */
  times?: number;
  stage?: 'rcpt' | 'data';
}

/** The faults of the simulator; `setFaults` replaces them all (and restarts the `times` counts). */
export interface SmtpSimulatorFaults {
  /** Per-recipient replies, checked in order; absent: the defaults (`bad` → 550 5.1.1, `full` → 452 4.2.2 twice). */
  recipients?: SmtpRecipientFault[];
  /** Every new connection is greeted with this reply (421 by default) and closed. */
  refuse?: boolean | SmtpReply;
  /** Milliseconds to wait before answering the greeting, MAIL, RCPT and the end of DATA. */
  delayMs?: number;
  /** Never answer the end of DATA (the message is read, the client waits for ever). */
  hangOnData?: boolean;
}

/** A message the simulator accepted, as mailparser read it. */
export interface SimulatedMail {
  /** The queue id of the 250 reply. */
  id: string;
  envelope: { from: string; to: string[] };
  /** Header fields by lower-case name, each occurrence's raw value (unfolded, not decoded). */
  headers: Map<string, string[]>;
  subject?: string;
  text?: string;
  html?: string;
  /** The message as received (after the dot-unstuffing of DATA). */
  raw: Buffer;
  receivedAt: Date;
}

/** Options of `startSmtpSimulator`. */
export interface SmtpSimulatorOptions {
  host?: string;
  /** 0 (the default): a port from the OS. */
  port?: number;
  /** Require AUTH PLAIN/LOGIN with these credentials (over the plain connection); absent: no AUTH at all. */
  auth?: { user: string; password: string };
  /** Largest message in bytes (advertised as SIZE; a bigger one gets 552 5.3.4); default 10 MB. */
  sizeLimit?: number;
  /** How many accepted messages are kept (the oldest are dropped); default 5,000. */
  maxMessages?: number;
  faults?: SmtpSimulatorFaults;
}

/** A running simulator. */
export interface SmtpSimulator {
  host: string;
  port: number;
  /** The accepted messages, oldest first. */
  messages(): SimulatedMail[];
  /** RCPT TO commands seen for an address (refused ones included). */
  attempts(address: string): number;
  /** Connections opened to the simulator so far (refused ones included). */
  connections(): number;
  /** Messages read in full and left without an answer (hangOnData). */
  unanswered(): number;
  /** Forgets the messages and the counts. */
  clear(): void;
  setFaults(faults: SmtpSimulatorFaults): void;
  close(): Promise<void>;
}

/** The defaults, so the demo shows a hard bounce and a soft one that clears without configuration. */
export const DEFAULT_RECIPIENT_FAULTS: readonly SmtpRecipientFault[] = [
  { match: 'bad', reply: { code: 550, text: '5.1.1 Recipient address rejected: User unknown in virtual mailbox table' } },
  { match: 'full', reply: { code: 452, text: '4.2.2 Mailbox full, try again later' }, times: 2 },
];

const REFUSED: SmtpReply = { code: 421, text: '4.3.2 Service not available, closing transmission channel' };

interface State {
  faults: SmtpSimulatorFaults;
  mails: SimulatedMail[];
  /** RCPT TO per address. */
  rcpts: Map<string, number>;
  /** Faulted answers given per rule index and address, for `times`. */
  served: Map<string, number>;
  connections: number;
  unanswered: number;
}

/**
 * Starts the simulator on 127.0.0.1 (port 0 by default). No TLS (STARTTLS disabled), so a client must be
 * configured for a plain connection; AUTH is offered over it when `auth` is given.
 */
export async function startSmtpSimulator(options: SmtpSimulatorOptions = {}): Promise<SmtpSimulator> {
  const state: State = { faults: options.faults ?? {}, mails: [], rcpts: new Map(), served: new Map(), connections: 0, unanswered: 0 };
  const server = createServer(state, options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A client that drops the connection mid-session is not the simulator's failure.
  server.on('error', () => undefined);
  const address = server.server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    messages: () => [...state.mails],
    attempts: (recipient) => state.rcpts.get(recipient.toLowerCase()) ?? 0,
    connections: () => state.connections,
    unanswered: () => state.unanswered,
    clear() {
      state.mails = [];
      state.connections = 0;
      state.unanswered = 0;
      state.rcpts.clear();
      state.served.clear();
    },
    setFaults(faults) {
      state.faults = faults;
      state.served.clear();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The smtp-server whose handlers answer from `state`'s faults and keep what they accept in it. */
function createServer(state: State, options: SmtpSimulatorOptions): SMTPServer {
  const maxMessages = options.maxMessages ?? 5_000;
  return new SMTPServer({
    name: 'smtp.simulator.test',
    banner: 'Journal Bridge SMTP simulator',
    logger: false,
    disableReverseLookup: true,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    size: options.sizeLimit ?? 10 * 1024 * 1024,
    closeTimeout: 200,
    onConnect(_session, callback) {
      state.connections += 1;
      const refuse = state.faults.refuse;
      later(state, () => callback(refuse ? replyError(refuse === true ? REFUSED : refuse) : null));
    },
    onAuth(auth, _session, callback) {
      const ok = options.auth && auth.username === options.auth.user && auth.password === options.auth.password;
      if (ok) callback(null, { user: auth.username });
      else callback(replyError({ code: 535, text: '5.7.8 Error: authentication failed' }));
    },
    onMailFrom(_address, _session, callback) {
      later(state, () => callback());
    },
    onRcptTo(address, _session, callback) {
      const key = address.address.toLowerCase();
      state.rcpts.set(key, (state.rcpts.get(key) ?? 0) + 1);
      const fault = takeFault(state, key, 'rcpt');
      later(state, () => callback(fault ? replyError(fault) : null));
    },
    onData(stream, session, callback) {
      // A client that goes away mid-message (an aborted send) errors the stream: nothing to answer then.
      receive(stream, session, state, maxMessages).then((reply) => {
        if (!reply) return;
        later(state, () => (reply.code === 250 ? callback(null, reply.text) : callback(replyError(reply))));
      }, () => undefined);
    },
  });
}

/**
 * Reads the message and decides the reply to the end of DATA: a data-stage fault, too big, 250 with a
 * queue id, or none at all (hangOnData: the message is not kept).
 */
async function receive(stream: SMTPServerDataStream, session: SMTPServerSession, state: State, maxMessages: number): Promise<SmtpReply | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  if (state.faults.hangOnData) {
    state.unanswered += 1;
    return undefined;
  }
  if (stream.sizeExceeded) return { code: 552, text: '5.3.4 Message size exceeds fixed maximum message size' };
  const recipients = session.envelope.rcptTo.map((rcpt: SMTPServerAddress) => rcpt.address);
  for (const recipient of recipients) {
    const fault = takeFault(state, recipient.toLowerCase(), 'data');
    if (fault) return fault;
  }
  const raw = Buffer.concat(chunks);
  const id = randomBytes(5).toString('hex').toUpperCase();
  state.mails.push(await parseMail(id, raw, session, recipients));
  if (state.mails.length > maxMessages) state.mails.splice(0, state.mails.length - maxMessages);
  return { code: 250, text: `2.0.0 Ok: queued as ${id}` };
}

async function parseMail(id: string, raw: Buffer, session: SMTPServerSession, to: string[]): Promise<SimulatedMail> {
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  const headers = new Map<string, string[]>();
  for (const { key, line } of parsed.headerLines) {
    const value = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
    headers.set(key, [...(headers.get(key) ?? []), value]);
  }
  const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  return {
    id,
    envelope: { from, to },
    headers,
    subject: parsed.subject,
    text: parsed.text,
    html: typeof parsed.html === 'string' ? parsed.html : undefined,
    raw,
    receivedAt: new Date(),
  };
}

/** The first matching fault of the stage that still has answers left for this address, counting the answer. */
function takeFault(state: State, address: string, stage: 'rcpt' | 'data'): SmtpReply | undefined {
  const rules = state.faults.recipients ?? DEFAULT_RECIPIENT_FAULTS;
  for (const [index, rule] of rules.entries()) {
    if ((rule.stage ?? 'rcpt') !== stage || !matches(rule.match, address)) continue;
    const key = `${index}\u0000${address}`;
    const served = state.served.get(key) ?? 0;
    if (rule.times !== undefined && served >= rule.times) continue;
    state.served.set(key, served + 1);
    return rule.reply;
  }
  return undefined;
}

function matches(match: string | RegExp, address: string): boolean {
  if (match instanceof RegExp) return new RegExp(match.source, `${match.flags.replace(/[gyi]/g, '')}i`).test(address);
  const wanted = match.toLowerCase();
  return wanted.includes('@') ? address === wanted : address.slice(0, address.lastIndexOf('@')) === wanted;
}

function replyError(reply: SmtpReply): Error & { responseCode: number } {
  return Object.assign(new Error(reply.text), { responseCode: reply.code });
}

/** Runs `answer` after the configured delay (at once without one). */
function later(state: State, answer: () => void): void {
  const delay = state.faults.delayMs ?? 0;
  if (delay > 0) setTimeout(answer, delay);
  else answer();
}
