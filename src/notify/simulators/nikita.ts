import express from 'express';
import { escapeXml, xmlElements, xmlRawText, xmlText } from '../channels/sms-http.js';
import { countSms } from '../segments.js';
import { createGatewayCore, startGateway, type GatewayOptions, type SimulatedState, type SmsGatewaySimulator, type TransportFaults } from './sms-gateway.js';

/**
 * A simulated Nikita SMS Pro (smspro.nikita.kg) for the demo and tests: `POST /api/message` and `POST /api/dr`
 * with XML bodies, in the shapes of src/notify/channels/nikita.ts's header (its `<response>` carries an xmlns,
 * as the real gateway's sometimes does). It checks the credentials (→ status 2), the id (≤ 12 Latin letters
 * and digits, else → 1), the number (996 and 9 digits, else → 7), refuses a repeated id (→ 10) and answers
 * `<test>1</test>` with 11 without sending.
 */

/** Nikita faults: a `status` answered instead of sending. */
export interface NikitaFaults extends TransportFaults {
  status?: number;
}

/** Options of the Nikita simulator. */
export interface NikitaSimulatorOptions extends GatewayOptions {
  login: string;
  pwd: string;
}

const REPORT_CODE: Record<SimulatedState, number> = { queued: 0, delivered: 3, failed: 4 };
const NS = 'http://Giper.mobi/schema/Message';

/** Starts the simulator on loopback. */
export async function startNikitaSimulator(options: NikitaSimulatorOptions): Promise<SmsGatewaySimulator<NikitaFaults>> {
  const core = createGatewayCore<NikitaFaults>(options);
  core.app.use(express.text({ type: () => true }));
  const xmlReply = (res: express.Response, inner: string) =>
    res.type('text/xml; charset=utf-8').send(`<?xml version="1.0" encoding="UTF-8"?><response xmlns="${NS}">${inner}</response>`);

  core.app.post('/api/message', async (req, res) => {
    const body = typeof req.body === 'string' ? req.body : '';
    const phones = xmlElements(body, 'phone').map((phone) => phone.trim().replace(/^\+/, ''));
    const params = readParams(body, ['login', 'pwd', 'id', 'sender', 'test']);
    params.text = xmlRawText(body, 'text') ?? '';
    params.phones = phones.join(',');
    if (!(await core.admit(req, res, params))) return;
    const id = params.id ?? '';
    const answer = (status: number, smscnt = 0) => xmlReply(res, `<id>${escapeXml(id)}</id><status>${status}</status><phones>${phones.length}</phones><smscnt>${smscnt}</smscnt>`);
    const fault = core.faults().status;
    if (xmlElements(body, 'message').length === 0 || !/^[A-Za-z0-9]{1,12}$/.test(id) || !params.text || phones.length === 0) return void answer(1);
    if (params.login !== options.login || params.pwd !== options.pwd) return void answer(2);
    if (fault !== undefined) return void answer(fault);
    if (phones.some((phone) => !/^996\d{9}$/.test(phone))) return void answer(7);
    const parts = countSms(params.text).parts;
    if (params.test === '1') return void answer(11, parts);
    if (core.messages.some((message) => message.id === id)) return void answer(10);
    for (const phone of phones) core.accept({ id, phone, text: params.text, sender: params.sender });
    answer(0, parts);
  });

  core.app.post('/api/dr', async (req, res) => {
    const body = typeof req.body === 'string' ? req.body : '';
    const params = readParams(body, ['login', 'pwd', 'id', 'phone']);
    if (!(await core.admit(req, res, params))) return;
    if (xmlElements(body, 'dr').length === 0 || !params.id) return void xmlReply(res, '<status>1</status>');
    if (params.login !== options.login || params.pwd !== options.pwd) return void xmlReply(res, '<status>2</status>');
    const phone = params.phone?.replace(/^\+/, '');
    const found = core.messages.filter((message) => message.id === params.id && (phone === undefined || message.phone === phone));
    if (found.length === 0) return void xmlReply(res, '<status>4</status>');
    const reports = found.map((message) =>
      `<phone><number>${message.phone}</number><report>${REPORT_CODE[message.state]}</report>`
      + `<sendTime>${stamp(message.acceptedAt)}</sendTime><rcvTime>${message.state === 'delivered' ? stamp(message.acceptedAt) : ''}</rcvTime></phone>`);
    xmlReply(res, `<status>0</status>${reports.join('')}`);
  });

  return startGateway(core, options.port);
}

function readParams(xml: string, names: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const name of names) {
    const value = xmlText(xml, name);
    if (value !== undefined) params[name] = value;
  }
  return params;
}

/** YYYYMMDDHHMMSS in Bishkek time (UTC+6, no daylight saving), as Nikita writes times. */
function stamp(time: Date): string {
  return new Date(time.getTime() + 6 * 3_600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
