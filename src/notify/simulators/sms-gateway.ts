import express, { type Express, type Request, type Response } from 'express';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What the three SMS gateway simulators (smsru.ts, smsc.ts, nikita.ts) share: an Express app on loopback,
 * the log of every request, the accepted messages and their delivery state, and the transport faults
 * (HTTP 500, a slow answer, no answer at all). Each simulator adds its own routes and reply shapes.
 * Everything lives in memory only: the request log holds the credentials as sent, so tests can assert
 * them, and nothing is written anywhere.
 */

/** One request the simulator received. */
export interface SimulatorCall {
  time: Date;
  path: string;
  /** Form or XML fields as the gateway parsed them (credentials included, kept in memory only). */
  params: Record<string, string>;
}

/** Where a simulated message is: `queued` until `deliverAll()` or `setDelivery()`. */
export type SimulatedState = 'queued' | 'delivered' | 'failed';

/** A message the simulated gateway accepted. */
export interface SimulatedMessage {
  /** The gateway's id of the message (SMS.ru sms_id, SMSC id, Nikita id). */
  id: string;
  phone: string;
  text: string;
  sender?: string;
  state: SimulatedState;
  acceptedAt: Date;
}

/** Transport faults every simulator can inject; they apply to every request until replaced. */
export interface TransportFaults {
  /** Answer HTTP 500 with an empty body. */
  http500?: boolean;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer (the connection stays open until `close()`). */
  hang?: boolean;
  /** Apply the faults to this many requests only, then answer normally. */
  times?: number;
}

/** The handle every SMS gateway simulator returns. */
export interface SmsGatewaySimulator<F extends TransportFaults> {
  /** Base URL to put in the provider's `baseUrl`. */
  url: string;
  calls(): SimulatorCall[];
  messages(): SimulatedMessage[];
  /** Replaces the active faults; `{}` clears them. */
  setFaults(faults: F): void;
  /** Every queued message becomes delivered. */
  deliverAll(): void;
  setDelivery(id: string, state: SimulatedState): void;
  close(): Promise<void>;
}

/** Shared state and plumbing handed to a simulator's routes. */
export interface GatewayCore<F extends TransportFaults> {
  app: Express;
  messages: SimulatedMessage[];
  /** The faults in force for the current request (empty when none or their `times` ran out). */
  faults(): F;
  /** Records the request and applies the transport faults; false when it has been answered (or never will be). */
  admit(req: Request, res: Response, params: Record<string, string>): Promise<boolean>;
  accept(message: Omit<SimulatedMessage, 'state' | 'acceptedAt'>): SimulatedMessage;
}

/** Options common to the simulators. */
export interface GatewayOptions {
  port?: number;
  /** Demo: a message becomes delivered this long after it was accepted (tests use `deliverAll()`). */
  deliverAfterMs?: number;
}

/** Builds the shared state; `start` listens and returns the handle. */
export function createGatewayCore<F extends TransportFaults>(options: GatewayOptions): GatewayCore<F> & { calls: SimulatorCall[]; setFaults(faults: F): void } {
  const calls: SimulatorCall[] = [];
  const messages: SimulatedMessage[] = [];
  let active = {} as F;
  let remaining = Infinity;
  const app = express();
  const current = (): F => (remaining > 0 ? active : ({} as F));
  return {
    app,
    messages,
    calls,
    faults: current,
    setFaults(faults: F) {
      active = faults;
      remaining = faults.times ?? Infinity;
    },
    async admit(req, res, params) {
      calls.push({ time: new Date(), path: req.path, params });
      const faults = current();
      if (remaining !== Infinity && remaining > 0) remaining -= 1;
      if (faults.hang) return false;
      if (faults.delayMs) await sleep(faults.delayMs);
      if (faults.http500) {
        res.status(500).end();
        return false;
      }
      return true;
    },
    accept(message) {
      const accepted: SimulatedMessage = { ...message, state: 'queued', acceptedAt: new Date() };
      messages.push(accepted);
      if (options.deliverAfterMs !== undefined) {
        setTimeout(() => {
          if (accepted.state === 'queued') accepted.state = 'delivered';
        }, options.deliverAfterMs).unref();
      }
      return accepted;
    },
  };
}

/** Listens on loopback (port 0: one from the OS) and returns the simulator's handle. */
export async function startGateway<F extends TransportFaults>(core: ReturnType<typeof createGatewayCore<F>>, port = 0): Promise<SmsGatewaySimulator<F>> {
  const server: Server = core.app.listen(port, '127.0.0.1');
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('SMS simulator: no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    calls: () => [...core.calls],
    messages: () => core.messages.map((message) => ({ ...message })),
    setFaults: (faults) => core.setFaults(faults),
    deliverAll: () => {
      for (const message of core.messages) if (message.state === 'queued') message.state = 'delivered';
    },
    setDelivery: (id, state) => {
      const message = core.messages.find((candidate) => candidate.id === id);
      if (!message) throw new Error(`SMS simulator: no message ${id}`);
      message.state = state;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The fields of a form (body or query) as plain strings. */
export function formParams(req: Request): Record<string, string> {
  const fields: Record<string, string> = {};
  const sources = [req.query, req.body as unknown];
  for (const source of sources) {
    if (source === null || typeof source !== 'object') continue;
    for (const [key, value] of Object.entries(source)) if (typeof value === 'string') fields[key] = value;
  }
  return fields;
}
