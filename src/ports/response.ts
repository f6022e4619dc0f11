import { z } from 'zod';
import { AdapterError } from './adapter.js';

/**
 * Validation at the edge: every platform answer an adapter reads is parsed by the schema of its
 * endpoint before anything maps it. Schemas pass unknown fields through (`z.looseObject`) and accept
 * every variant public clients show; a shape they do not know fails the stream as `permanent`, with a
 * message naming the platform, the endpoint and the field — «Дневник.ру GET /v2/users/me/context:
 * schools[0]: neither id nor id_str» — instead of a TypeError deep in the mapping being retried into
 * the dead letters. Values inside records (an empty mark, an impossible date) are not the edge's
 * business: they reach the journal, which rejects that one record with its reason.
 */

/** One endpoint of a platform and the schema of its answer. */
export interface Endpoint<T> {
  /** The platform as users know it: «Дневник.ру», «NetSchool». */
  platform: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'WS';
  /** The path as the platform documents it, with `{placeholders}`: `/v2/edu-groups/{group}/persons`. */
  path: string;
  schema: z.ZodType<T>;
  /**
   * What `parse` takes: the body as parsed JSON (default), or as text — HTML pages, and JSON the adapter
   * parses itself (losslessly, when ids exceed 2^53 without string twins).
   */
  body: 'json' | 'text';
  /** Parses an answer, or throws a `permanent` AdapterError naming the endpoint and the field. */
  parse(data: unknown): T;
  /** The same from the answer's body as sent (a fixture, a recorded answer): JSON is parsed first unless the endpoint reads text. */
  parseBody(text: string): T;
}

/** The key of an endpoint in an adapter's catalogue and in fixture manifests: `GET /v2/users/me/context`. */
export const endpointKey = (e: Pick<Endpoint<unknown>, 'method' | 'path'>): string => `${e.method} ${e.path}`;

export function defineEndpoint<S extends z.ZodType>(
  platform: string, method: Endpoint<unknown>['method'], path: string, schema: S, options: { body?: 'json' | 'text' } = {},
): Endpoint<z.output<S>> {
  const endpoint: Endpoint<z.output<S>> = {
    platform, method, path, schema: schema as z.ZodType<z.output<S>>, body: options.body ?? 'json',
    parse(data) {
      const result = schema.safeParse(data);
      if (result.success) return result.data as z.output<S>;
      throw shapeError(endpoint, result.error.issues);
    },
    parseBody(text) {
      return endpoint.parse(endpoint.body === 'json' ? JSON.parse(text) as unknown : text);
    },
  };
  return endpoint;
}

/** `schools[0].id`, `[3].marks[1]`; the answer itself when the path is empty. */
function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text === '' ? String(part) : `.${String(part)}`;
  return text || '(the answer)';
}

/** One zod issue in a user's words: the field path and what was wrong with it. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const deepest = issue.code === 'invalid_union' && issue.errors.length > 0
    // Of a union's branches, the one that got furthest says most about what the answer lacks.
    ? issue.errors.map((branch) => branch[0]).filter((i): i is z.core.$ZodIssue => i !== undefined).sort((a, b) => b.path.length - a.path.length)[0]
    : undefined;
  if (deepest) return describeIssue({ ...deepest, path: [...issue.path, ...deepest.path] });
  return `${formatPath(issue.path)}: ${issue.message}`;
}

/** The `permanent` error of an answer whose shape the adapter does not know. */
export function shapeError(endpoint: Pick<Endpoint<unknown>, 'platform' | 'method' | 'path'>, issues: readonly z.core.$ZodIssue[]): AdapterError {
  const first = issues[0];
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new AdapterError('permanent', `${endpoint.platform} ${endpoint.method} ${endpoint.path}: ${first ? describeIssue(first) : 'unexpected answer'}${more}`);
}

/** The same for a page or answer an adapter reads by hand (HTML): names the element or field that is missing. */
export function missingPart(endpoint: Pick<Endpoint<unknown>, 'platform' | 'method' | 'path'>, part: string, what = 'not found'): AdapterError {
  return new AdapterError('permanent', `${endpoint.platform} ${endpoint.method} ${endpoint.path}: ${part}: ${what}`);
}

// ---------------------------------------------------------------------------------------------------
// Building blocks the adapters' schemas share.

/**
 * A platform id as a string. Strings are taken as they are; numbers only when JSON could carry them
 * exactly (an id above 2^53 arrives rounded, so it is refused rather than silently wrong).
 */
export const IdSchema = z.union([
  z.string().trim().min(1, 'an empty id'),
  z.number().int('an id that is not an integer').refine(Number.isSafeInteger, 'an id above 2^53 sent as a JSON number (rounded): the platform\'s string twin is needed')
    .transform(String),
]);

/** A value that may be missing or null: `undefined` either way. */
export const optional = <S extends z.ZodType>(schema: S) => schema.nullish().transform((v) => v ?? undefined);


const templates = new Map<string, { pattern: RegExp; literal: number }>();

function templateOf(path: string): { pattern: RegExp; literal: number } {
  let template = templates.get(path);
  if (!template) {
    const source = path.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+');
    template = { pattern: new RegExp(`${source}/?$`), literal: path.replace(/\{[^}]+\}/g, '').length };
    templates.set(path, template);
  }
  return template;
}

/**
 * The catalogued endpoint a request went to: its method and the end of its URL's path match the
 * endpoint's path template (the platform's host may sit under a prefix); the most specific wins.
 */
export function findEndpoint<E extends Pick<Endpoint<unknown>, 'method' | 'path'>>(endpoints: readonly E[], method: string, url: string): E | undefined {
  const pathname = URL.canParse(url) ? new URL(url).pathname : url.split('?')[0]!;
  let best: E | undefined;
  for (const endpoint of endpoints) {
    if (endpoint.method !== method.toUpperCase()) continue;
    const template = templateOf(endpoint.path);
    if (template.pattern.test(pathname) && (!best || template.literal > templateOf(best.path).literal)) best = endpoint;
  }
  return best;
}
