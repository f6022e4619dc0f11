import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { NetSchoolConfig } from '../../adapters/netschool/client.js';
import { ReportHub } from '../../adapters/netschool/hub.js';
import { AdapterError, type AdapterContext, type PlatformSocket } from '../../src/ports/adapter.js';

/**
 * The report hub's timers on the fake clock: the 15 s ping while a report waits, the report timeout,
 * and closing — nothing may stay scheduled once the reports settled and the hub is closed. The socket
 * is scripted: it opens and answers the handshake on the next microtask, and the test feeds the rest.
 */
const RS = '\u001e';
const later = (f: () => void) => void Promise.resolve().then(f);

interface Scripted {
  sent: Array<Record<string, unknown>>;
  closed: boolean;
  receive(frame: Record<string, unknown>): void;
}

function scriptedSocket(answersHandshake: boolean): { socket: PlatformSocket; script: Scripted } {
  const events = new EventEmitter();
  const script: Scripted = {
    sent: [],
    closed: false,
    receive: (frame) => events.emit('message', JSON.stringify(frame) + RS),
  };
  const socket = {
    send(text: string) {
      for (const message of text.split(RS).filter(Boolean).map((t) => JSON.parse(t) as Record<string, unknown>)) {
        script.sent.push(message);
        if (message.protocol === 'json' && answersHandshake) later(() => events.emit('message', `{}${RS}`));
      }
    },
    close() {
      script.closed = true;
      later(() => events.emit('close'));
    },
    on(event: string, listener: (...args: never[]) => void) {
      events.on(event, listener as (...args: unknown[]) => void);
      return socket;
    },
  } as PlatformSocket;
  later(() => events.emit('open'));
  return { socket, script };
}

/** Lets the microtasks run until `condition` holds (the socket's answers are microtasks, not timers). */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await Promise.resolve();
  if (!condition()) throw new Error('the condition never held');
}

/** A promise's outcome so far, without waiting for it. */
function track<T>(promise: Promise<T>): { state: () => 'pending' | 'resolved' | 'rejected'; result: Promise<T> } {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(() => (state = 'resolved'), () => (state = 'rejected'));
  return { state: () => state, result: promise };
}

let sockets: Scripted[];
let hub: ReportHub;
/** Whether the next sockets answer the SignalR handshake. */
let answersHandshake: boolean;
const pings = (script: Scripted) => script.sent.filter((m) => m.type === 6).length;
const started = (script: Scripted, n: number) => () => script.sent.filter((m) => m.target === 'startTask').length === n;

beforeEach(() => {
  jest.useFakeTimers();
  sockets = [];
  answersHandshake = true;
  const ctx = {
    config: { reportTimeoutSeconds: 180 },
    socket: () => {
      const { socket, script } = scriptedSocket(answersHandshake);
      sockets.push(script);
      return socket;
    },
  } as unknown as AdapterContext<NetSchoolConfig>;
  hub = new ReportHub(ctx, { at: 'AT', ver: '709000001', schoolName: '' }, {}, ['wss://sgo.example.test/webapi/signalr/queueHub']);
});

afterEach(() => {
  jest.useRealTimers();
});

describe('NetSchool «Сетевой Город. Образование» report hub', () => {
  it('pings every 15 s while a report waits, not once it completed, and stops when closed', async () => {
    const report = hub.run('10276001', 'report-v2');
    await until(() => sockets[0] !== undefined && started(sockets[0], 1)());
    const socket = sockets[0]!;
    await jest.advanceTimersByTimeAsync(14_999);
    expect(pings(socket)).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(pings(socket)).toBe(1);
    await jest.advanceTimersByTimeAsync(15_000);
    expect(pings(socket)).toBe(2);
    socket.receive({ type: 1, target: 'complete', arguments: [{ taskId: 10276001, data: 'file-1' }] });
    await expect(report).resolves.toBe('file-1');
    await jest.advanceTimersByTimeAsync(60_000);
    expect(pings(socket)).toBe(2);
    // The report's timeout is gone; the ping stays scheduled only while the socket is open.
    expect(jest.getTimerCount()).toBe(1);
    hub.close(new AdapterError('transient', 'closed'));
    expect([jest.getTimerCount(), socket.closed]).toEqual([0, true]);
  });

  it('fails a report that does not complete within reportTimeoutSeconds, and leaves only the ping', async () => {
    const report = track(hub.run('10276001', 'report-v2'));
    await until(() => sockets[0] !== undefined && started(sockets[0], 1)());
    await jest.advanceTimersByTimeAsync(179_999);
    expect(report.state()).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    await expect(report.result).rejects.toMatchObject({ kind: 'transient', message: 'NetSchool report 10276001 did not complete within 180 s' });
    expect(jest.getTimerCount()).toBe(1);
  });

  it('fails a report at its timeout when the hub never answers the handshake', async () => {
    answersHandshake = false;
    const report = track(hub.run('10276001', 'report-v2'));
    await until(() => sockets[0]?.sent.some((m) => m.protocol === 'json') === true);
    await jest.advanceTimersByTimeAsync(179_999);
    expect(report.state()).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    await expect(report.result).rejects.toMatchObject({ kind: 'transient', message: 'NetSchool report 10276001 did not complete within 180 s' });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('fails the waiting reports at once when closed, stops their timers, and opens no socket again', async () => {
    const first = hub.run('10276001', 'report-v2');
    const second = hub.run('10276002', 'report-v2');
    await until(() => sockets[0] !== undefined && started(sockets[0], 2)());
    const reason = new AdapterError('auth', 'NetSchool report hub of an ended session');
    hub.close(reason);
    await expect(first).rejects.toBe(reason);
    await expect(second).rejects.toBe(reason);
    expect([jest.getTimerCount(), sockets[0]!.closed]).toEqual([0, true]);
    await expect(hub.run('10276003', 'report-v2')).rejects.toBe(reason);
    expect(sockets).toHaveLength(1);
  });

  it('closes a socket that finishes its handshake after the hub was closed', async () => {
    const report = hub.run('10276001', 'report-v2');
    const reason = new AdapterError('transient', 'NetSchool report hub closed at the end of the stream');
    hub.close(reason);
    await expect(report).rejects.toBe(reason);
    await until(() => sockets[0]?.closed === true);
    expect(sockets[0]!.sent.some((m) => m.target === 'startTask')).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });
});
