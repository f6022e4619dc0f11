import { platformText } from '../../src/ports/platform-text.js';
import { AdapterError, type AdapterContext, type PlatformSocket } from '../../src/ports/adapter.js';
import { shapeError } from '../../src/ports/response.js';
import { perRun } from '../../src/ports/session.js';
import type { NetSchoolClient, NetSchoolConfig, Session } from './client.js';
import { HUB_COMPLETE, HUB_FRAME, REPORT_FILE, STUDENT_TOTAL_QUEUE, type HubFrame } from './endpoints.js';
import type { StudentTotal } from './report.js';
import { formatVersion, versionBefore, type Version } from './version.js';

/** What the report hub (ASP.NET Core SignalR, NetSchool's task runner) is known to say; other text is withheld. */
const HUB_TEXTS = new Set(['Connection closed with an error', 'Ошибка запуска задачи']);

/**
 * The report queue (README.md "Reports"): `POST reports/studenttotal/queue` → `{taskId, queueKey}`;
 * on the hub (ASP.NET Core SignalR, JSON protocol) `startTask [taskId, queueKey]` with an
 * `invocationId`, so that a start the server refuses comes back at once as a completion (`type: 3`,
 * `result.success: false` or `error`); `complete {taskId, data}` names the file `GET files/{code}`.
 */

type Ctx = AdapterContext<NetSchoolConfig>;
const RS = '\u001e';
/** Core SignalR servers drop a client that is silent for 30 s (the default ClientTimeoutInterval). */
const PING_MS = 15_000;

/** Where the hub lives, by the server's version (lentryd: 5.29 `queueHub`, 5.32 `signalr/queueHub`; netschool-api-plus: `/signalr/queueHub`). */
export function hubPaths(version: Version | undefined): string[] {
  if (version && versionBefore(version, [5, 29])) {
    throw new AdapterError('permanent', `NetSchool ${formatVersion(version)}: reports on servers before 5.29 go through the older ASP.NET SignalR hub (negotiate/connect/poll), which the adapter does not support; attendance and term marks cannot be read from this server`);
  }
  if (version && versionBefore(version, [5, 32])) return ['/webapi/queueHub'];
  return ['/webapi/signalr/queueHub', '/signalr/queueHub'];
}

/** Parses one hub frame, or fails as `permanent` naming the hub and the field. */
function parseFrame(text: string): HubFrame {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw shapeError(HUB_FRAME, [{ code: 'custom', message: 'not JSON', input: text, path: [] }]);
  }
  return HUB_FRAME.parse(data);
}

interface Waiting {
  resolve(code: string): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * One socket per session; every report of the run starts on it. Its timers: one per waiting report
 * (`reportTimeoutSeconds`, the socket's opening included) and the ping while the socket is open, each stopped when its report settles
 * or the socket ends; a closed hub opens no socket again.
 */
export class ReportHub {
  private ready?: Promise<PlatformSocket>;
  private socket?: PlatformSocket;
  private pinger?: NodeJS.Timeout;
  /** Why the hub was closed: what a report still waiting on it, or started on it later, fails with. */
  private closedBy?: AdapterError;
  private readonly waiting = new Map<string, Waiting>();
  private readonly invocations = new Map<string, { taskId: string; queueKey: string; target: string }>();
  private next = 0;
  /** netschoolpy (2026) calls `startTaskAsync` where lentryd and netschool-api-plus call `startTask`. */
  private target = 'startTask';

  constructor(private readonly ctx: Ctx, readonly session: Session, private readonly headers: Record<string, string>, private readonly urls: string[]) {}

  /**
   * Starts the task and waits for its file code, opening the socket first when there is none; a refused
   * start fails at once. The timeout covers it all: a hub that never answers its handshake is no wait
   * without end.
   */
  run(taskId: string, queueKey: string): Promise<string> {
    const seconds = this.ctx.config.reportTimeoutSeconds;
    const done = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(taskId, new AdapterError('transient', `NetSchool report ${taskId} did not complete within ${seconds} s`)), seconds * 1000);
      this.waiting.set(taskId, { resolve, reject, timer });
    });
    this.open().then((socket) => this.waiting.has(taskId) && this.invoke(socket, taskId, queueKey)).catch((error: unknown) => this.settle(taskId, error as Error));
    return done;
  }

  private invoke(socket: PlatformSocket, taskId: string, queueKey: string): void {
    const invocationId = String(this.next++);
    this.invocations.set(invocationId, { taskId, queueKey, target: this.target });
    socket.send(JSON.stringify({ arguments: [Number(taskId), queueKey], invocationId, target: this.target, type: 1 }) + RS);
  }

  private open(): Promise<PlatformSocket> {
    if (this.closedBy) return Promise.reject(this.closedBy);
    this.ready ??= (async () => {
      for (const [i, url] of this.urls.entries()) {
        try {
          return await this.connect(url);
        } catch (error) {
          // A server without the hub at this address (404) may have it at the next one.
          if (!(error instanceof AdapterError && error.status === 404 && i < this.urls.length - 1)) throw error;
        }
      }
      throw new AdapterError('permanent', 'NetSchool: no report hub address to try');
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  /** Opens the socket and completes the handshake (`{"protocol":"json","version":1}` → `{}`). */
  private connect(url: string): Promise<PlatformSocket> {
    return new Promise<PlatformSocket>((resolve, reject) => {
      const socket = this.ctx.socket(`${url}?at=${encodeURIComponent(this.session.at)}`, { headers: this.headers });
      let handshaken = false;
      // After the handshake a failure ends the reports waiting on this socket (not on a later one).
      const fail = (error: AdapterError) => (!handshaken ? reject(error) : this.socket === socket ? this.failAll(error) : undefined);
      socket.on('open', () => socket.send(JSON.stringify({ protocol: 'json', version: 1 }) + RS));
      socket.on('refused', (status) => reject(new AdapterError(status === 401 ? 'auth' : status === 404 ? 'permanent' : 'transient', `NetSchool report hub refused the connection (HTTP ${status})`, { status })));
      socket.on('error', (error) => fail(new AdapterError('transient', `NetSchool report hub: ${error.message}`)));
      socket.on('close', () => fail(new AdapterError('transient', 'NetSchool report hub closed the connection')));
      socket.on('message', (raw) => {
        for (const text of raw.split(RS).filter(Boolean)) {
          let frame: HubFrame;
          try {
            frame = parseFrame(text);
          } catch (error) {
            fail(error as AdapterError);
            socket.close();
            return;
          }
          if (handshaken) this.onFrame(socket, frame);
          else if (frame.error || this.closedBy) {
            // A hub closed while this socket was opening does not keep it.
            reject(this.closedBy ?? new AdapterError('transient', `NetSchool report hub refused the handshake: ${platformText(frame.error, HUB_TEXTS)}`));
            socket.close();
            return;
          } else {
            handshaken = true;
            this.socket = socket;
            this.pinger = setInterval(() => this.waiting.size > 0 && socket.send(`{"type":6}${RS}`), PING_MS).unref();
            resolve(socket);
          }
        }
      });
    });
  }

  private onFrame(socket: PlatformSocket, frame: HubFrame): void {
    if (frame.type === 3 && frame.invocationId !== undefined) return this.completed(socket, frame);
    if (frame.type === 1 && frame.target === 'complete') {
      const done = HUB_COMPLETE.parse(frame.arguments?.[0]);
      return this.settle(done.taskId, undefined, done.data);
    }
    if (frame.type === 7 || (frame.type === undefined && frame.error)) {
      this.failAll(new AdapterError('transient', `NetSchool report hub closed: ${platformText(frame.error, HUB_TEXTS) || 'no reason given'}`));
      socket.close();
    }
  }

  /** The completion of a `startTask`: a refusal (`error`, or `result.success === false`) fails its report now. */
  private completed(socket: PlatformSocket, frame: HubFrame): void {
    const invocation = this.invocations.get(String(frame.invocationId));
    if (!invocation) return;
    this.invocations.delete(String(frame.invocationId));
    const message = frame.result?.message;
    const failure = frame.error ?? (frame.result?.success === false ? (typeof message === 'string' && message) || 'the server refused to start it' : undefined);
    if (failure === undefined) return;
    if (invocation.target === 'startTask' && this.target === 'startTask' && /method/i.test(failure)) {
      this.target = 'startTaskAsync';
      return this.invoke(socket, invocation.taskId, invocation.queueKey);
    }
    this.settle(invocation.taskId, new AdapterError('transient', `NetSchool report ${invocation.taskId} did not start: ${platformText(failure, HUB_TEXTS)}`));
  }

  private settle(taskId: string, error: Error | undefined, code?: string): void {
    const entry = this.waiting.get(taskId);
    if (!entry) return;
    this.waiting.delete(taskId);
    clearTimeout(entry.timer);
    if (error) entry.reject(error);
    else entry.resolve(code!);
  }

  private failAll(error: AdapterError): void {
    for (const taskId of [...this.waiting.keys()]) this.settle(taskId, error);
    this.reset();
  }

  private reset(): void {
    clearInterval(this.pinger);
    this.invocations.clear();
    this.socket = undefined;
    this.ready = undefined;
  }

  /** Closes the socket for good; reports waiting on it fail now with `reason` (their timers stopped), not at their timeout. */
  close(reason: AdapterError): void {
    this.closedBy = reason;
    const socket = this.socket;
    this.failAll(reason);
    socket?.close();
  }
}

/** The run's hub, replaced when the session is. */
const hubHolder = (ctx: Ctx) => perRun(ctx, 'netschool.hub', () => ({ hub: undefined as ReportHub | undefined }));

/**
 * The run's hub for `session`: a renewed session gets a new socket, and the reports waiting on the old
 * one fail as `auth`, which Relogin answers with the new session. A read still holding an older
 * session gets that `auth` too, instead of closing the newer session's hub.
 */
function hubOf(ctx: Ctx, client: NetSchoolClient, session: Session): ReportHub {
  const holder = hubHolder(ctx);
  if (holder.hub?.session === session) return holder.hub;
  const ended = new AdapterError('auth', 'NetSchool report hub of an ended session');
  if (!client.isLatest(session)) throw ended;
  holder.hub?.close(ended);
  holder.hub = new ReportHub(ctx, session, client.socketHeaders(session), hubPaths(session.version).map((p) => `${client.origin.replace(/^http/, 'ws')}${p}`));
  return holder.hub;
}

/** Closes the run's hub socket (the end of the stream that reads reports). */
export function closeHub(ctx: Ctx): void {
  const holder = hubHolder(ctx);
  holder.hub?.close(new AdapterError('transient', 'NetSchool report hub closed at the end of the stream'));
  holder.hub = undefined;
}

/**
 * Queues a studenttotal report (`body` is the queue's, in the session it is queued in), waits for it
 * on the hub and reads it; a refused session is renewed once and the report asked again.
 */
export function readReport(ctx: Ctx, client: NetSchoolClient, body: (session: Session) => unknown): Promise<StudentTotal> {
  return client.inSession(async (session) => {
    const hub = hubOf(ctx, client, session);
    const queued = await client.send(STUDENT_TOTAL_QUEUE, { method: 'POST', url: 'reports/studenttotal/queue', json: body(session) }, session);
    const code = await hub.run(String(queued.taskId), queued.queueKey ?? 'report-v2');
    return client.send(REPORT_FILE, { url: `files/${encodeURIComponent(code)}` }, session);
  });
}
