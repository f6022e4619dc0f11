import { z } from 'zod';

/**
 * HTML pages at the edge: a page's schema reads the page (cheerio) into a plain object, then checks that
 * object with zod. What the reading cannot find is reported as an issue whose path names the element
 * («table «Ученики»: not found»), so the endpoint's `parse` fails as `permanent` naming the page and
 * the element — never a TypeError further down.
 */

/** Reports a missing or unexpected part of a page: `part` names the element, `what` says what is wrong. */
export type Report = (part: string, what: string) => void;

/** The schema of an HTML page: `read` turns the text into what `schema` checks (and types). */
export function htmlPage<S extends z.ZodType>(read: (html: string, report: Report) => unknown, schema: S): z.ZodType<z.output<S>, string> {
  return z.string().transform((html, ctx): unknown => {
    let failed = false;
    const report: Report = (part, what) => {
      failed = true;
      ctx.issues.push({ code: 'custom', message: what, input: undefined, path: [part] });
    };
    const value = read(html, report);
    return failed ? z.NEVER : value;
  }).pipe(schema as unknown as z.ZodType<z.output<S>, unknown>);
}

const LINK_BASE = 'http://edu.invalid/';

/** A query parameter of a link's href («/school/academic_year/pupils?id=123» → «123»). */
export function hrefParam(href: string | undefined, name: string): string | undefined {
  if (!href || !URL.canParse(href, LINK_BASE)) return undefined;
  return new URL(href, LINK_BASE).searchParams.get(name)?.trim() || undefined;
}

/** The path of a URL («https://edu.tatar.ru/message?x» → «/message»). */
export function pathOf(url: string): string {
  return URL.canParse(url, LINK_BASE) ? new URL(url, LINK_BASE).pathname : url.split('?')[0]!;
}
