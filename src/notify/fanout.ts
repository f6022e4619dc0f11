import type { PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { shiftDays, todayIn } from '../lib/dates.js';
import type { Consumer, FeedEvent, Payload } from '../journal/feed.js';
import { projectContacts } from './contacts.js';
import { writeOutbox, type Enqueue, type NewNotification } from './outbox.js';
import type { Purpose } from './policy.js';
import { sendableAt } from './quiet.js';
import { loadReach, route } from './reach.js';
import { loadNotifySchool, type NotifySchool } from './school.js';

/** The notifications' cursor on the event feed. */
export const NOTIFY_CONSUMER = 'notify';

/**
 * Parents' messages from the journal event feed: each batch of events becomes outbox rows in the
 * transaction that advances the notify cursor (outbox.ts), so every event is considered exactly once and a
 * replay adds nothing. What is news: a mark of the school's news source (school.ts) created, or changed in
 * value, on a lesson day within `maxAgeDays`; an absence on today's lesson; a period or year mark set or
 * changed. A mark of 2 or «н/а» is a `low_mark` and goes at once even to parents on the digest.
 * Recipients are the pupil's guardians (guardianship), each by the channel `route` picks.
 */
export function notifyConsumer(clock: Clock, enqueue: Enqueue): Consumer {
  return {
    name: NOTIFY_CONSUMER,
    batchSize: 5000,
    // A parent waits for this one: the feed's wake-up comes after 1 s, not the checks' 2.
    wakeSeconds: 1,
    handle: async (client, schoolId, events) => {
      const school = await loadNotifySchool(client, schoolId);
      if (!school) return;
      await projectContacts(client, schoolId, events, school.country);
      if (!school.policy.enabled) return;
      const news = newsOf(school, events, clock.now());
      if (news.length === 0) return;
      await writeOutbox(client, schoolId, await addressed(client, school, news, clock.now()), enqueue);
    },
  };
}

interface News {
  seq: number;
  kind: 'mark' | 'mark_changed' | 'low_mark' | 'absence' | 'period_mark';
  purpose: Purpose;
  pupilId: string;
  subjectId: string;
  periodId?: string;
  date?: string;
  raw?: string;
  previousRaw?: string;
  workCategory?: string;
  absence?: string;
  lessonId?: string;
}

/** Days after its period's end that a period mark is still news. */
const PERIOD_NEWS_DAYS = 14;

const ABSENT = new Set(['ill', 'valid', 'unexcused', 'unknown']);

/** A 2 (or 1) on the five-point scale, or «н/а» (not attested). */
export function isLowMark(p: Payload): boolean {
  const raw = String(p.raw ?? '').trim().toLowerCase();
  if (raw === 'н/а' || raw === 'на') return true;
  const numeric = typeof p.numeric === 'number' ? p.numeric : Number(p.numeric);
  const scale = p.scale === undefined ? 5 : Number(p.scale);
  return p.kind === 'mark' && Number.isFinite(numeric) && scale === 5 && numeric < 3;
}

function newsOf(school: NotifySchool, events: readonly FeedEvent[], now: Date): News[] {
  const today = todayIn(school.timeZone, now);
  const oldest = shiftDays(today, -school.policy.maxAgeDays);
  const news: News[] = [];
  for (const e of events) {
    if (!e.after || e.sourceId !== school.newsSourceId) continue;
    const a = e.after;
    const changed = e.op === 'update' && e.before?.raw !== a.raw;
    if (e.entityType === 'mark' && (e.op === 'create' || changed)) {
      const date = String(a.date);
      if (date < oldest || date > today) continue;
      const low = isLowMark(a) && school.policy.lowMarks;
      news.push({
        seq: e.seq, kind: low ? 'low_mark' : e.op === 'create' ? 'mark' : 'mark_changed', purpose: 'marks', pupilId: String(a.pupil_id),
        subjectId: String(a.subject_id), date, raw: String(a.raw), previousRaw: changed ? String(e.before?.raw ?? '') : undefined,
        workCategory: typeof a.work_category === 'string' ? a.work_category : undefined,
      });
    } else if (e.entityType === 'attendance' && school.policy.absences && ABSENT.has(String(a.kind))) {
      const wasAbsent = e.op === 'update' && ABSENT.has(String(e.before?.kind));
      if (e.op === 'delete' || wasAbsent || String(a.date) !== today) continue;
      news.push({ seq: e.seq, kind: 'absence', purpose: 'attendance', pupilId: String(a.pupil_id), subjectId: '', lessonId: String(a.lesson_id), date: String(a.date), absence: String(a.kind) });
    } else if (e.entityType === 'period_mark' && school.policy.periodMarks && (e.op === 'create' || changed)) {
      // Whether its period is recent enough is known once the periods are read (addressed).
      news.push({ seq: e.seq, kind: 'period_mark', purpose: 'marks', pupilId: String(a.pupil_id), subjectId: String(a.subject_id), periodId: String(a.period_id), raw: String(a.raw) });
    }
  }
  return news;
}

/** The news of a batch, addressed: one row per guardian, by the channel each one's route picks. */
async function addressed(client: PoolClient, school: NotifySchool, news: readonly News[], now: Date): Promise<NewNotification[]> {
  const pupils = [...new Set(news.map((n) => n.pupilId))];
  const lessons = news.flatMap((n) => (n.lessonId ? [n.lessonId] : []));
  // One query after the other: a transaction's client takes one at a time.
  const guardians = await client.query<{ pupil_id: string; guardian_id: string }>(
    `SELECT pupil_id::text, guardian_id::text FROM guardianship WHERE school_id = $1 AND pupil_id = ANY($2::uuid[]) AND deleted_at IS NULL`, [school.id, pupils]);
  const names = await client.query<{ id: string; first_name: string }>(`SELECT id::text, first_name FROM person WHERE id = ANY($1::uuid[])`, [pupils]);
  const lessonRows = await client.query<{ id: string; subject_id: string; slot: number }>(`SELECT id::text, subject_id::text, slot FROM lesson WHERE id = ANY($1::uuid[])`, [lessons]);
  const lessonOf = new Map(lessonRows.rows.map((l) => [l.id, l]));
  const subjectIds = [...new Set([...news.map((n) => n.subjectId), ...lessonRows.rows.map((l) => l.subject_id)].filter(Boolean))];
  const periodIds = [...new Set(news.flatMap((n) => (n.periodId ? [n.periodId] : [])))];
  const subjects = await client.query<{ id: string; name: string; alt_names: string | null }>(`SELECT id::text, name, alt_names FROM subject WHERE id = ANY($1::uuid[])`, [subjectIds]);
  const periods = await client.query<{ id: string; title: string; kind: string; end_date: string }>(
    `SELECT id::text, title, kind, end_date::text FROM period WHERE id = ANY($1::uuid[])`, [periodIds]);
  const guardiansOf = new Map<string, string[]>();
  for (const g of guardians.rows) guardiansOf.set(g.pupil_id, [...(guardiansOf.get(g.pupil_id) ?? []), g.guardian_id]);
  const firstName = new Map(names.rows.map((p) => [p.id, p.first_name]));
  const subjectOf = new Map(subjects.rows.map((s) => [s.id, s]));
  const periodOf = new Map(periods.rows.map((p) => [p.id, p]));
  const reach = await loadReach(client, school.id, guardians.rows.map((g) => g.guardian_id));
  const notBefore = sendableAt(now, school.timeZone, school.policy.quietHours);
  const rows: NewNotification[] = [];
  // A period or year mark is news while its period is recent: set at the period's end, or in the
  // PERIOD_NEWS_DAYS after it; a first sync's marks of the year's earlier quarters are not.
  const today = todayIn(school.timeZone, now);
  for (const n of news) {
    if (n.periodId) {
      const period = periodOf.get(n.periodId);
      if (!period || period.end_date < shiftDays(today, -PERIOD_NEWS_DAYS)) continue;
    }
    const lesson = n.lessonId ? lessonOf.get(n.lessonId) : undefined;
    const subject = subjectOf.get(lesson?.subject_id ?? n.subjectId);
    const period = n.periodId ? periodOf.get(n.periodId) : undefined;
    const data: Record<string, unknown> = {
      pupilFirstName: firstName.get(n.pupilId) ?? '', subject: subject?.name ?? '', subjectKy: altName(subject?.alt_names, 'ky'), date: n.date,
      raw: n.raw, previousRaw: n.previousRaw, workCategory: n.workCategory, kind: n.absence, slot: lesson?.slot,
      periodTitle: period?.title, final: period ? period.kind === 'year' : undefined,
    };
    for (const guardian of guardiansOf.get(n.pupilId) ?? []) {
      const mode = reach.preferences.get(guardian)?.marks ?? school.policy.marks;
      const isMark = n.kind === 'mark' || n.kind === 'mark_changed';
      if (isMark && mode === 'off') continue;
      rows.push({
        eventKey: `e:${n.seq}`, recipientId: guardian, kind: n.kind, purpose: n.purpose, pupilId: n.pupilId, data,
        route: route(reach, guardian, n.purpose, school.policy.channels, school.providers), hold: isMark && mode === 'digest', notBefore,
      });
    }
  }
  return rows;
}

/** A subject's name in another language from its `alt_names` JSON ({"ky": "Тарых"}). */
export function altName(altNames: string | null | undefined, lang: string): string | undefined {
  if (!altNames) return undefined;
  try {
    const names = JSON.parse(altNames) as Record<string, unknown>;
    return typeof names[lang] === 'string' ? names[lang] : undefined;
  } catch {
    return undefined;
  }
}
