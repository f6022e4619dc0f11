import {
  AttendanceRecordSchema, MarkRecordSchema, PeriodMarkRecordSchema,
  type AttendanceRecord, type MarkRecord, type PeriodMarkRecord,
} from '../ports/records.js';
import { DEFAULT_SCALE, mapAttendanceCode, mapMarkValue } from '../ports/values.js';
import type { Column, ColumnKind } from './columns.js';
import type { BatchContext, LessonInfo } from './context.js';
import type { FactSpec } from './facts.js';
import { RejectRecord } from './resolver.js';

const cols = (...spec: Array<[string, ColumnKind]>): Column[] => spec.map(([name, kind]) => ({ name, kind }));

export const markSpec: FactSpec<MarkRecord> = {
  type: 'mark',
  table: 'mark',
  schema: MarkRecordSchema,
  columns: cols(['pupil_id', 'uuid'], ['lesson_id', 'uuid'], ['subject_id', 'uuid'], ['date', 'date'], ['raw', 'text'],
    ['kind', 'text'], ['numeric', 'numeric'], ['scale', 'int'], ['weight', 'numeric'], ['work_category', 'text'],
    ['work_title', 'text'], ['due_date', 'date'], ['comment', 'text'], ['entered_at', 'instant'], ['modified_at', 'instant']),
  references: (r) => [['person', r.pupilExternalId], ['subject', r.subjectExternalId]],
  prepare: (ctx, records) => loadLessons(ctx, records.map((r) => r.lessonExternalId)),
  toRow: (r, resolve, ctx) => {
    const lesson = lessonOf(ctx, r.lessonExternalId);
    return {
      pupil_id: resolve.required('person', r.pupilExternalId, 'pupil'),
      lesson_id: lesson?.id,
      subject_id: r.subjectExternalId ? resolve.required('subject', r.subjectExternalId, 'subject') : lesson?.subjectId,
      date: r.date ?? lesson?.date,
      ...markValue(ctx, r),
      weight: r.weight,
      work_category: r.workCategory ?? 'other',
      work_title: r.workTitle,
      due_date: r.dueDate,
      comment: r.comment,
      entered_at: r.enteredAt,
      modified_at: r.modifiedAt,
    };
  },
};

export const attendanceSpec: FactSpec<AttendanceRecord> = {
  type: 'attendance',
  table: 'attendance',
  schema: AttendanceRecordSchema,
  columns: cols(['pupil_id', 'uuid'], ['lesson_id', 'uuid'], ['date', 'date'], ['raw', 'text'], ['kind', 'text'],
    ['late_minutes', 'int'], ['reason', 'text']),
  references: (r) => [['person', r.pupilExternalId]],
  prepare: (ctx, records) => loadLessons(ctx, records.map((r) => r.lessonExternalId)),
  toRow: (r, resolve, ctx) => {
    const lesson = lessonOf(ctx, r.lessonExternalId)!;
    return {
      pupil_id: resolve.required('person', r.pupilExternalId, 'pupil'),
      lesson_id: lesson.id,
      date: lesson.date,
      raw: r.code,
      kind: r.kind ?? mapAttendanceCode(r.code, ctx.vocabulary, r.lateMinutes),
      late_minutes: r.lateMinutes,
      reason: r.reason,
    };
  },
};

export const periodMarkSpec: FactSpec<PeriodMarkRecord> = {
  type: 'period_mark',
  table: 'period_mark',
  schema: PeriodMarkRecordSchema,
  columns: cols(['pupil_id', 'uuid'], ['subject_id', 'uuid'], ['period_id', 'uuid'], ['raw', 'text'], ['kind', 'text'],
    ['numeric', 'numeric'], ['scale', 'int'], ['average', 'numeric'], ['set_at', 'instant']),
  references: (r) => [['person', r.pupilExternalId], ['subject', r.subjectExternalId], ['period', r.periodExternalId]],
  toRow: (r, resolve, ctx) => ({
    pupil_id: resolve.required('person', r.pupilExternalId, 'pupil'),
    subject_id: resolve.required('subject', r.subjectExternalId, 'subject'),
    period_id: resolve.required('period', r.periodExternalId, 'period'),
    ...markValue(ctx, r),
    average: r.average,
    set_at: r.setAt,
  }),
};

/** raw, kind, numeric and scale of a mark value; an adapter's explicit kind wins over the tables. */
function markValue(ctx: BatchContext, r: { value: string; kind?: MarkRecord['kind']; scale?: number }) {
  const mapped = mapMarkValue(r.value, ctx.vocabulary, r.scale ?? DEFAULT_SCALE);
  const kind = r.kind ?? mapped.kind;
  return { raw: r.value, kind, numeric: kind === 'mark' ? mapped.numeric : null, scale: kind === 'mark' ? mapped.scale : null };
}

function lessonOf(ctx: BatchContext, externalId: string | undefined): LessonInfo | undefined {
  if (externalId === undefined) return undefined;
  const lesson = ctx.lessons.get(externalId);
  if (!lesson) throw new RejectRecord(`unknown lesson "${externalId}": no lesson with this id from this source yet`);
  return lesson;
}

/** Loads the cited lessons of this source with one query (a fact takes its date and subject from them). */
async function loadLessons(ctx: BatchContext, externalIds: Array<string | undefined>): Promise<void> {
  const missing = [...new Set(externalIds.filter((id): id is string => id !== undefined && !ctx.lessons.has(id)))];
  if (missing.length === 0) return;
  const { rows } = await ctx.client.query<LessonInfo & { external_id: string }>(
    `SELECT r.external_id, l.id::text AS id, l.subject_id::text AS "subjectId", l.date::text AS date
       FROM external_ref r JOIN lesson l ON l.id = r.canonical_id
      WHERE r.connection_id = $1 AND r.entity_type = 'lesson' AND r.gone_at IS NULL
        AND l.deleted_at IS NULL AND r.external_id = ANY($2::text[])`,
    [ctx.source.id, missing],
  );
  for (const id of missing) ctx.lessons.set(id, null);
  for (const row of rows) ctx.lessons.set(row.external_id, { id: row.id, subjectId: row.subjectId, date: row.date });
}
