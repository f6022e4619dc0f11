import { ChannelError } from './contract.js';

/**
 * What the three SMS gateway providers (smsru.ts, smsc.ts, nikita.ts) share: one HTTP POST with the caller's
 * deadline and our own timeout, the transport failures classified once (network, timeout, HTTP 5xx →
 * temporary; 429 → rate-limited; 401/403 → account; other 4xx → permanent), the E.164 → gateway phone form,
 * and a few lines of XML for Nikita. Error messages name the provider, the endpoint and a code, never a
 * phone, a text or a secret — which is why the request body and URL query never go into an error.
 */

/** One POST to a gateway. */
export interface GatewayRequest {
  /** `smsru`, `smsc`, `nikita`: named in errors. */
  provider: string;
  /** The endpoint path (`/sms/send`): named in errors, joined to `baseUrl`. */
  endpoint: string;
  baseUrl: string;
  body: URLSearchParams | string;
  /** Content type of a string body (a URLSearchParams body is form-encoded UTF-8). */
  contentType?: string;
  timeoutMs: number;
  signal: AbortSignal;
}

/** A gateway's reply with a 2xx status. */
export interface GatewayReply {
  status: number;
  text: string;
}

/** POSTs the request; throws a `ChannelError` for everything but a 2xx answer. */
export async function postToGateway(request: GatewayRequest): Promise<GatewayReply> {
  const where = `${request.provider} ${request.endpoint}`;
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = AbortSignal.any([request.signal, timeout]);
  const headers: Record<string, string> = {};
  if (typeof request.body === 'string') headers['content-type'] = request.contentType ?? 'text/plain; charset=utf-8';
  let response: Response;
  let text: string;
  try {
    response = await fetch(joinUrl(request.baseUrl, request.endpoint), { method: 'POST', body: request.body, headers, signal });
    text = await response.text();
  } catch (error) {
    if (timeout.aborted) throw new ChannelError('temporary', `${where}: no answer within ${request.timeoutMs} ms`, { code: 'timeout' });
    if (request.signal.aborted) throw new ChannelError('temporary', `${where}: aborted`, { code: 'aborted' });
    throw new ChannelError('temporary', `${where}: network error (${networkCode(error)})`, { code: networkCode(error) });
  }
  if (response.ok) return { status: response.status, text };
  throw httpError(where, response);
}

function httpError(where: string, response: Response): ChannelError {
  const code = `http_${response.status}`;
  const message = `${where}: HTTP ${response.status}`;
  if (response.status === 429) return new ChannelError('rate_limited', message, { code, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) });
  if (response.status >= 500 || response.status === 408) return new ChannelError('temporary', message, { code });
  if (response.status === 401 || response.status === 403) return new ChannelError('account', message, { code });
  return new ChannelError('permanent', message, { code });
}

function retryAfterMs(header: string | null): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 60_000;
}

/**
 * The system error code of a failed fetch (ECONNREFUSED…): the cause of undici's "fetch failed". Read by shape,
 * not `instanceof Error`: undici's errors come from Node's own realm, which is not the caller's under a VM
 * sandbox (Jest).
 */
function networkCode(error: unknown): string {
  const cause = typeof error === 'object' && error !== null ? (error as { cause?: { code?: unknown } }).cause : undefined;
  return typeof cause?.code === 'string' ? cause.code : 'fetch_failed';
}

function joinUrl(baseUrl: string, endpoint: string): string {
  return baseUrl.replace(/\/+$/, '') + endpoint;
}

/** Parses a gateway's JSON reply; a reply that is not JSON (a proxy's error page) is temporary trouble. */
export function parseGatewayJson(provider: string, endpoint: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ChannelError('temporary', `${provider} ${endpoint}: the reply is not JSON`, { code: 'bad_reply' });
  }
}

/**
 * The phone as the gateways want it: E.164 digits without '+' (79991234567, 996555123456). Anything that is
 * not E.164 is refused before a request is made: the contact is unusable, and the error does not quote it.
 */
export function gatewayPhone(provider: string, to: string): string {
  if (!/^\+[1-9]\d{7,14}$/.test(to)) throw new ChannelError('permanent', `${provider}: the recipient is not an E.164 phone number`, { code: 'bad_number', contactUnusable: true });
  return to.slice(1);
}

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text escaped for an XML element or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => XML_ENTITIES[char] ?? char);
}

function unescapeXml(text: string): string {
  return text
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, data: string) => data.replace(/&/g, '&amp;').replace(/</g, '&lt;'))
    .replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
      const lower = entity.toLowerCase();
      if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
      if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
      return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[lower] ?? '';
    });
}

/**
 * The inner XML of every `<tag>` element (any namespace prefix, attributes allowed; `<tag/>` gives ''),
 * in document order. Enough for the flat replies and requests of Nikita's API; not a general XML parser
 * (the project has none as a dependency): elements of the same name must not nest.
 */
export function xmlElements(xml: string, tag: string): string[] {
  const name = `(?:[A-Za-z_][\\w.-]*:)?${tag}`;
  const pattern = new RegExp(`<${name}(?:\\s[^>]*?)?(?:/>|>([\\s\\S]*?)</${name}\\s*>)`, 'g');
  return Array.from(xml.matchAll(pattern), (match) => match[1] ?? '');
}

/** The text of the first `<tag>` element, entities decoded and trimmed; undefined when there is none. */
export function xmlText(xml: string, tag: string): string | undefined {
  const inner = xmlElements(xml, tag)[0];
  return inner === undefined ? undefined : unescapeXml(inner).trim();
}

/** The text of the first `<tag>` element as XML text with entities decoded, not trimmed (message bodies). */
export function xmlRawText(xml: string, tag: string): string | undefined {
  const inner = xmlElements(xml, tag)[0];
  return inner === undefined ? undefined : unescapeXml(inner);
}
