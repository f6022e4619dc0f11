import express from 'express';
import { countSms } from '../segments.js';
import { createGatewayCore, formParams, startGateway, type GatewayOptions, type SimulatedState, type SmsGatewaySimulator, type TransportFaults } from './sms-gateway.js';

/**
 * A simulated SMSC.ru for the demo and tests: `/sys/send.php` and `/sys/status.php` with `fmt=3` JSON replies,
 * in the shapes of src/notify/channels/smsc.ts's header. It checks the credentials (`login` + `psw` or
 * `apikey`, wrong → error 2), the id (not ≤ 40 of [A-Za-z0-9._-] → 1), the number (→ 7), remembers client
 * ids (the same id and phone again within `duplicateWindowMs` → error 9), counts parts with src/notify/segments.ts,
 * and with `cost=1` prices without sending.
 */

/** SMSC faults: an `errorCode` (1–9) answered instead of sending. */
export interface SmscFaults extends TransportFaults {
  errorCode?: number;
}

/** Options of the SMSC simulator. */
export interface SmscSimulatorOptions extends GatewayOptions {
  login: string;
  psw: string;
  apikey?: string;
  /** How long a client id + phone is remembered for error 9 (SMSC: about a minute). */
  duplicateWindowMs?: number;
}

const STATUS_CODE: Record<SimulatedState, number> = { queued: -1, delivered: 1, failed: 20 };

/** Starts the simulator on loopback. */
export async function startSmscSimulator(options: SmscSimulatorOptions): Promise<SmsGatewaySimulator<SmscFaults>> {
  const core = createGatewayCore<SmscFaults>(options);
  const window = options.duplicateWindowMs ?? 60_000;
  let sequence = 0;
  core.app.use(express.urlencoded({ extended: false }));
  const authorised = (params: Record<string, string>) =>
    (options.apikey !== undefined && params.apikey === options.apikey) || (params.login === options.login && params.psw === options.psw);

  core.app.all('/sys/send.php', async (req, res) => {
    const params = formParams(req);
    if (!(await core.admit(req, res, params))) return;
    const id = params.id;
    const fail = (code: number) => res.json({ ...(id ? { id } : {}), error: `error ${code}`, error_code: code });
    const fault = core.faults().errorCode;
    if (!authorised(params)) return void fail(2);
    if (fault !== undefined) return void fail(fault);
    if (!params.mes || (id !== undefined && !/^[A-Za-z0-9._-]{1,40}$/.test(id))) return void fail(1);
    const phone = (params.phones ?? '').replace(/^\+/, '');
    if (!/^\d{11,15}$/.test(phone)) return void fail(7);
    const parts = countSms(params.mes).parts;
    if (params.cost === '1') return void res.json({ cost: (parts * 2.5).toFixed(2), cnt: parts });
    const now = Date.now();
    const duplicate = id !== undefined && core.messages.some((m) => m.id === id && m.phone === phone && now - m.acceptedAt.getTime() < window);
    if (duplicate) return void fail(9);
    sequence += 1;
    const message = core.accept({ id: id ?? String(sequence), phone, text: params.mes, sender: params.sender });
    res.json({ id: message.id, cnt: parts, ...(Number(params.cost) >= 2 ? { cost: (parts * 2.5).toFixed(2) } : {}) });
  });

  core.app.all('/sys/status.php', async (req, res) => {
    const params = formParams(req);
    if (!(await core.admit(req, res, params))) return;
    if (!authorised(params)) return void res.json({ error: 'authorise error', error_code: 2 });
    if (!params.id || !params.phone) return void res.json({ error: 'parameters error', error_code: 1 });
    const phone = params.phone.replace(/^\+/, '');
    const message = core.messages.find((m) => m.id === params.id && m.phone === phone);
    if (!message) return void res.json({ status: -3, last_date: '', last_timestamp: 0, err: 0 });
    const at = Math.floor(message.acceptedAt.getTime() / 1000);
    res.json({ status: STATUS_CODE[message.state], last_date: message.acceptedAt.toISOString(), last_timestamp: at, err: message.state === 'failed' ? 1 : 0 });
  });

  return startGateway(core, options.port);
}
