import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { State } from './simulator-session.js';

/** How the simulated hub fails: `start` refuses every `startTask`. */
export type HubFailure = 'start';

const RS = '\u001e';
const send = (ws: WebSocket, message: unknown) => ws.send(JSON.stringify(message) + RS);

/**
 * The report hub in ASP.NET Core SignalR's JSON protocol (signalr-queuehub-core-frames.txt): the
 * handshake, `startTask` / `startTaskAsync` `[taskId, queueKey]` answered by a completion for its
 * `invocationId` (`result.success`), then `progress` and `complete {taskId, data}` naming the file.
 */
export function serveHub(ws: WebSocket, state: State, at: string, failure: HubFailure | undefined): void {
  let handshaken = false;
  ws.on('message', (raw) => {
    for (const frame of raw.toString().split(RS).filter(Boolean)) {
      const message = JSON.parse(frame) as { protocol?: string; type?: number; target?: string; arguments?: unknown[]; invocationId?: string };
      if (!handshaken) {
        handshaken = message.protocol === 'json';
        if (handshaken) ws.send(`{}${RS}`);
        else {
          send(ws, { error: 'Handshake was canceled.' });
          ws.close();
        }
        continue;
      }
      if (message.type === 1 && (message.target === 'startTask' || message.target === 'startTaskAsync')) start(ws, state, at, failure, message);
    }
  });
}

function start(ws: WebSocket, state: State, at: string, failure: HubFailure | undefined, message: { arguments?: unknown[]; invocationId?: string }): void {
  const taskId = Number(message.arguments?.[0]);
  const task = state.tasks.get(taskId);
  const reply = (result: unknown) => message.invocationId !== undefined && send(ws, { type: 3, invocationId: message.invocationId, result });
  setImmediate(() => {
    if (failure === 'start' || !task || task.at !== at || message.arguments?.[1] !== 'report-v2') return void reply({ success: false, message: 'Ошибка запуска задачи' });
    reply({ success: true });
    state.tasks.delete(taskId);
    const code = randomBytes(8).toString('hex');
    state.files.set(code, task.render());
    send(ws, { type: 1, target: 'progress', arguments: [{ taskId, status: 'forming' }] });
    send(ws, { type: 1, target: 'complete', arguments: [{ taskId, data: code, componentId: 'cmp-0001' }] });
  });
}
