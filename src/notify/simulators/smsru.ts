import express from 'express';
import { createGatewayCore, formParams, startGateway, type GatewayOptions, type SimulatedState, type SmsGatewaySimulator, type TransportFaults } from './sms-gateway.js';

/**
 * A simulated SMS.ru for the demo and tests: `/sms/send` and `/sms/status` with `json=1` replies, in the shapes
 * of src/notify/channels/smsru.ts's header. It checks the api_id (wrong → 200), the text (empty → 203) and
 * each number (not 10–15 digits → 202), and can answer any status code on demand.
 */

/** SMS.ru faults: a `statusCode` answered instead of sending (top level, or per number for 202/207/209/230–233). */
export interface SmsRuFaults extends TransportFaults {
  statusCode?: number;
}

/** Options of the SMS.ru simulator. */
export interface SmsRuSimulatorOptions extends GatewayOptions {
  /** The api_id it accepts. */
  apiId: string;
}

const PER_NUMBER = new Set([202, 207, 209, 230, 231, 232, 233]);
const DELIVERY_CODE: Record<SimulatedState, number> = { queued: 100, delivered: 103, failed: 106 };

/** Starts the simulator on loopback. */
export async function startSmsRuSimulator(options: SmsRuSimulatorOptions): Promise<SmsGatewaySimulator<SmsRuFaults>> {
  const core = createGatewayCore<SmsRuFaults>(options);
  let sequence = 0;
  core.app.use(express.urlencoded({ extended: false }));

  core.app.all('/sms/send', async (req, res) => {
    const params = formParams(req);
    if (!(await core.admit(req, res, params))) return;
    const fault = core.faults().statusCode;
    if (params.api_id !== options.apiId) return void res.json(topError(200));
    if (fault !== undefined && !PER_NUMBER.has(fault)) return void res.json(topError(fault));
    if (!params.msg) return void res.json(topError(203));
    const sms: Record<string, object> = {};
    for (const phone of (params.to ?? '').split(',').filter(Boolean)) {
      const code = fault ?? (/^\d{10,15}$/.test(phone) ? 100 : 202);
      if (code !== 100) {
        sms[phone] = { status: 'ERROR', status_code: code, status_text: 'rejected' };
        continue;
      }
      sequence += 1;
      const id = `000000-${10_000_000 + sequence}`;
      if (params.test !== '1') core.accept({ id, phone, text: params.msg, sender: params.from });
      sms[phone] = { status: 'OK', status_code: 100, sms_id: id };
    }
    if (Object.keys(sms).length === 0) return void res.json(topError(202));
    res.json({ status: 'OK', status_code: 100, sms, balance: 4122.56 });
  });

  core.app.all('/sms/status', async (req, res) => {
    const params = formParams(req);
    if (!(await core.admit(req, res, params))) return;
    if (params.api_id !== options.apiId) return void res.json(topError(200));
    const sms: Record<string, object> = {};
    for (const id of (params.sms_id ?? '').split(',').filter(Boolean)) {
      const message = core.messages.find((candidate) => candidate.id === id);
      sms[id] = message
        ? { status: 'OK', status_code: DELIVERY_CODE[message.state], cost: '3.49', sms: 1, status_text: message.state }
        : { status: 'ERROR', status_code: -1, status_text: 'not found' };
    }
    res.json({ status: 'OK', status_code: 100, sms, balance: 4122.56 });
  });

  return startGateway(core, options.port);
}

function topError(code: number) {
  return { status: 'ERROR', status_code: code, status_text: `error ${code}` };
}
