import { z } from 'zod';
import { ConfigSchema } from '../../../../config.js';
import { journalSubjectsFor } from '../../../routes/journal.js';
import { visibleClasses } from '../../../routes/schools.js';
import { NotFoundError, ValidationError } from '../../../../lib/errors.js';
import type { ClassSummary } from '../../../../db/repositories/schools.js';
import type { PageContext } from '../../context.js';
import type { DashboardDeps } from '../../router.js';
import { html, type Html } from '../../html.js';
import type { MessageKey } from '../../messages/index.js';

/** A query parameter as one string: absent, empty or repeated ones read as undefined. */
export function param(ctx: PageContext, name: string): string | undefined {
  const v = ctx.req.query[name];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

const Uuid = z.uuid();

/** An id from a form or a link; a malformed one is a 400 naming the field (never echoing the value). */
export function idParam(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (!Uuid.safeParse(value).success) throw new ValidationError(`${field}: not an id`);
  return value;
}

export interface ClassChoice { classes: ClassSummary[]; classId: string | undefined; subjects: Array<{ id: string; name: string }>; subjectId: string | undefined }

/**
 * The class and subject selectors' options and choice, through the API's own access rules: the classes the
 * caller sees in the school, and the subjects of the chosen one it may open. `pick` chooses the first of
 * each when none is asked for (the journal and paper pages always show one page).
 */
export async function chooseClass(ctx: PageContext, deps: DashboardDeps, pick: boolean): Promise<ClassChoice> {
  const classes = await visibleClasses(deps.schools, deps.pool, ctx.caller, ctx.school.id);
  const asked = idParam(param(ctx, 'class'), 'class');
  const classId = asked ?? (pick ? classes.find((c) => c.kind === 'class')?.id ?? classes[0]?.id : undefined);
  if (asked && !classes.some((c) => c.id === asked)) throw new NotFoundError(`class ${asked}`);
  const subjects = classId ? await journalSubjectsFor(deps.pool, ctx.caller, classId) : [];
  const askedSubject = idParam(param(ctx, 'subject'), 'subject');
  // A page (pick) shows one of the class's subjects: one asked for under another class gives way to the first.
  const subjectId = pick ? (subjects.find((s) => s.id === askedSubject) ?? subjects[0])?.id : askedSubject;
  return { classes, classId, subjects, subjectId };
}

/** `<option>`s, the chosen one selected; `any` adds a first option with an empty value. */
export function options(items: Array<{ value: string; label: string }>, chosen: string | undefined, any?: string): Html {
  return html`${any !== undefined ? html`<option value="">${any}</option>` : ''}${items.map((i) => html`<option value="${i.value}"${i.value === chosen ? html` selected` : ''}>${i.label}</option>`)}`;
}

export function classOptions(ctx: PageContext, choice: ClassChoice, any: boolean): Html {
  return html`<label>${ctx.t('teacher.filter.class')}<select name="class">${options(choice.classes.map((c) => ({ value: c.id, label: c.name })), choice.classId, any ? ctx.t('form.all') : undefined)}</select></label>`;
}

export function subjectOptions(ctx: PageContext, choice: ClassChoice, any: boolean): Html {
  const items = choice.subjects.map((s) => ({ value: s.id, label: s.name }));
  // A subject asked for without its class stays chosen (the inbox filters by it alone).
  if (choice.subjectId && !items.some((i) => i.value === choice.subjectId)) items.push({ value: choice.subjectId, label: ctx.t('teacher.filter.chosenSubject') });
  return html`<label>${ctx.t('teacher.filter.subject')}<select name="subject">${options(items, choice.subjectId, any ? ctx.t('form.all') : undefined)}</select></label>`;
}

/** A status, severity or kind as a badge with its text from the catalogue. */
export function badge(ctx: PageContext, cls: string, key: MessageKey): Html {
  return html`<span class="badge ${cls}">${ctx.t(key)}</span>`;
}

export const statusKey = (s: string): MessageKey => `teacher.status.${s}` as MessageKey;
export const severityKey = (s: string): MessageKey => `teacher.severity.${s}` as MessageKey;
export const kindKey = (s: string): MessageKey => `teacher.kind.${s}` as MessageKey;

/** The journal route's options as the API mounts it (app.ts): the page's widest range and the clock. */
export function journalOptions(deps: DashboardDeps): { maxDays: number; clock: DashboardDeps['clock'] } {
  return { maxDays: deps.journalPageMaxDays ?? ConfigSchema.shape.JOURNAL_PAGE_MAX_DAYS.parse(undefined), clock: deps.clock };
}
