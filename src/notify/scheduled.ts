import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { shiftDays, todayIn } from '../lib/dates.js';
import { writeOutbox, type Enqueue, type NewNotification } from './outbox.js';
import { SEVERE_RULES } from './policy.js';
import { localAt, sendableAt } from './quiet.js';
import { loadReach, route } from './reach.js';
import { progressReports } from './report.js';
import { loadNotifySchool, type NotifySchool } from './school.js';
import { RULE_TITLES } from './templates.js';

/**
 * The notify side's clocked work, per school and in its time zone: the parents' daily marks digest
 * (`digestAt`), the teachers' daily digest of their open discrepancies (`teachers.digestAt`), the
 * fortnightly progress and attendance report (`report`), and — on every tick — an instant alert to the
 * assignee of each new severe discrepancy. A slot (`notify_slot`: school, kind, day) is taken once by
 * whichever scheduler gets there first, in the transaction that writes its rows; the rows' own unique keys
 * make a second writer a no-op anyway.
 */
export async function runScheduled(pool: Pool, clock: Clock, enqueue: Enqueue, schoolId: string): Promise<void> {
  const school = await loadNotifySchool(pool, schoolId);
  if (!school) return;
  const now = clock.now();
  const today = todayIn(school.timeZone, now);
  if (school.policy.teachers.enabled && school.policy.teachers.alerts) await withTransaction(pool, (c) => teacherAlerts(c, school, now, enqueue));
  if (school.policy.enabled && now >= localAt(today, school.policy.digestAt, school.timeZone)) {
    await inSlot(pool, school.id, 'marks_digest', today, (c) => marksDigests(c, school, today, now, enqueue));
  }
  if (school.policy.teachers.enabled && now >= localAt(today, school.policy.teachers.digestAt, school.timeZone)) {
    await inSlot(pool, school.id, 'teacher_digest', today, (c) => teacherDigests(c, school, today, now, enqueue));
  }
  const report = school.policy.report;
  if (school.policy.enabled && report.enabled && isReportDay(today, report.weekday, report.everyDays) && now >= localAt(today, report.at, school.timeZone)) {
    await inSlot(pool, school.id, 'progress_report', today, (c) => progressReportsOf(c, school, today, now, enqueue));
  }
}

/**
 * The teachers' digest now, once per school-local day and `reason` (the demo sends one as soon as its
 * platforms' first syncs have been checked): the same rows as the morning's, which a second writer leaves alone.
 */
export async function teacherDigestNow(pool: Pool, clock: Clock, enqueue: Enqueue, schoolId: string, reason: string): Promise<void> {
  const school = await loadNotifySchool(pool, schoolId);
  if (!school) return;
  const now = clock.now();
  const today = todayIn(school.timeZone, now);
  await inSlot(pool, school.id, `teacher_digest:${reason}`, today, (c) => teacherDigests(c, school, today, now, enqueue));
}

/** Runs `work` once per (school, kind, slot): the slot row and the work's rows commit together. */
async function inSlot(pool: Pool, schoolId: string, kind: string, slot: string, work: (client: PoolClient) => Promise<number>): Promise<void> {
  await withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(`INSERT INTO notify_slot (school_id, kind, slot) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [schoolId, kind, slot]);
    if (!rowCount) return;
    const count = await work(client);
    await client.query(`UPDATE notify_slot SET finished_at = now(), count = $4 WHERE school_id = $1 AND kind = $2 AND slot = $3`, [schoolId, kind, slot, count]);
  });
}

/** The ISO weekday of a date ('2025-09-05' → 5). */
function weekdayOf(day: string): number {
  const d = new Date(`${day}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
}

/** The first Monday on or after 1 September of the school year `day` is in. */
export function yearAnchor(day: string): string {
  const year = Number(day.slice(0, 4)) - (Number(day.slice(5, 7)) < 9 ? 1 : 0);
  let anchor = `${year}-09-01`;
  while (weekdayOf(anchor) !== 1) anchor = shiftDays(anchor, 1);
  return anchor;
}

/** Whether `day` ends a report period: the report weekday of every `everyDays`-th day's week from the year's first Monday. */
export function isReportDay(day: string, weekday: number, everyDays: number): boolean {
  if (weekdayOf(day) !== weekday) return false;
  const anchor = yearAnchor(day);
  const days = Math.round((Date.parse(`${day}T00:00:00Z`) - Date.parse(`${anchor}T00:00:00Z`)) / 86_400_000);
  return days >= 0 && Math.floor(days / 7) % Math.max(1, Math.round(everyDays / 7)) === Math.max(1, Math.round(everyDays / 7)) - 1;
}

async function teacherAlerts(client: PoolClient, school: NotifySchool, now: Date, enqueue: Enqueue): Promise<number> {
  const { rows } = await client.query<{ id: string; rule: string; assignee_id: string; class_name: string | null; subject: string | null; day: string | null }>(
    `SELECT d.id::text, d.rule, d.assignee_id::text, cg.name AS class_name, s.name AS subject, d.day::text
       FROM discrepancy d LEFT JOIN class_group cg ON cg.id = d.class_group_id LEFT JOIN subject s ON s.id = d.subject_id
      WHERE d.school_id = $1 AND d.status = 'open' AND d.assignee_id IS NOT NULL AND d.rule = ANY($2::text[])
        AND d.first_seen_at > now() - interval '2 days'
        AND NOT EXISTS (SELECT 1 FROM notification n WHERE n.school_id = d.school_id AND n.event_key = 'disc:' || d.id AND n.recipient_id = d.assignee_id)`,
    [school.id, [...SEVERE_RULES]],
  );
  return writeStaff(client, school, rows.map((r) => ({
    eventKey: `disc:${r.id}`, recipientId: r.assignee_id, kind: 'teacher_alert',
    data: { rule: r.rule, title: RULE_TITLES[r.rule] ?? r.rule, className: r.class_name ?? '', subject: r.subject ?? undefined, day: r.day ?? undefined },
  })), now, enqueue);
}

async function teacherDigests(client: PoolClient, school: NotifySchool, today: string, now: Date, enqueue: Enqueue): Promise<number> {
  const { rows } = await client.query<{ assignee_id: string; rule: string; class_name: string | null; subject: string | null; day: string | null }>(
    `SELECT d.assignee_id::text, d.rule, cg.name AS class_name, s.name AS subject, d.day::text
       FROM discrepancy d LEFT JOIN class_group cg ON cg.id = d.class_group_id LEFT JOIN subject s ON s.id = d.subject_id
      WHERE d.school_id = $1 AND d.status = 'open' AND d.assignee_id IS NOT NULL ORDER BY d.assignee_id, d.day DESC NULLS LAST, d.rule`,
    [school.id],
  );
  const byTeacher = new Map<string, typeof rows>();
  for (const r of rows) byTeacher.set(r.assignee_id, [...(byTeacher.get(r.assignee_id) ?? []), r]);
  const messages = [...byTeacher].map(([teacher, items]) => {
    const counts = new Map<string, number>();
    for (const i of items) counts.set(i.rule, (counts.get(i.rule) ?? 0) + 1);
    return {
      eventKey: `tdigest:${today}`, recipientId: teacher, kind: 'teacher_digest',
      data: {
        date: today, total: items.length,
        byRule: [...counts].sort((a, b) => b[1] - a[1]).map(([rule, count]) => ({ rule, title: RULE_TITLES[rule] ?? rule, count })),
        items: items.slice(0, 10).map((i) => ({ title: RULE_TITLES[i.rule] ?? i.rule, className: i.class_name ?? '', subject: i.subject ?? undefined, day: i.day ?? undefined })),
      },
    };
  });
  return writeStaff(client, school, messages, now, enqueue);
}

async function writeStaff(
  client: PoolClient, school: NotifySchool, messages: Array<{ eventKey: string; recipientId: string; kind: string; data: Record<string, unknown> }>, now: Date, enqueue: Enqueue,
): Promise<number> {
  if (messages.length === 0) return 0;
  const reach = await loadReach(client, school.id, messages.map((m) => m.recipientId));
  const notBefore = sendableAt(now, school.timeZone, school.policy.quietHours);
  const rows: NewNotification[] = messages.map((m) => ({
    ...m, purpose: 'discrepancies', route: route(reach, m.recipientId, 'discrepancies', school.policy.teachers.channels, school.providers), notBefore,
  }));
  return writeOutbox(client, school.id, rows, enqueue);
}

/** Every held mark of the school goes into one digest per recipient; the held rows become `digested`. */
async function marksDigests(client: PoolClient, school: NotifySchool, today: string, now: Date, enqueue: Enqueue): Promise<number> {
  const { rows } = await client.query<{ id: string; recipient_id: string; pupil_id: string | null; data: Record<string, unknown> }>(
    `SELECT id::text, recipient_id::text, pupil_id::text, data FROM notification WHERE school_id = $1 AND status = 'held' ORDER BY recipient_id, created_at FOR UPDATE`,
    [school.id],
  );
  if (rows.length === 0) return 0;
  const byRecipient = new Map<string, typeof rows>();
  for (const r of rows) byRecipient.set(r.recipient_id, [...(byRecipient.get(r.recipient_id) ?? []), r]);
  const reach = await loadReach(client, school.id, [...byRecipient.keys()]);
  const notBefore = sendableAt(now, school.timeZone, school.policy.quietHours);
  const digests: NewNotification[] = [];
  for (const [recipient, held] of byRecipient) {
    const children = new Map<string, { pupilFirstName: string; marks: Array<{ subject: string; raw: string; date: string }>; absences: number }>();
    for (const h of held) {
      const key = h.pupil_id ?? '';
      const child = children.get(key) ?? { pupilFirstName: String(h.data.pupilFirstName ?? ''), marks: [], absences: 0 };
      child.marks.push({ subject: String(h.data.subject ?? ''), raw: String(h.data.raw ?? ''), date: String(h.data.date ?? '') });
      children.set(key, child);
    }
    digests.push({
      eventKey: `digest:${today}`, recipientId: recipient, kind: 'marks_digest', purpose: 'marks', data: { date: today, children: [...children.values()] },
      route: route(reach, recipient, 'marks', school.policy.channels, school.providers), notBefore,
    });
  }
  await writeOutbox(client, school.id, digests, enqueue);
  await client.query(
    `UPDATE notification h SET status = 'digested', digest_id = d.id, updated_at = now()
       FROM notification d WHERE h.school_id = $1 AND h.id = ANY($2::uuid[]) AND d.school_id = h.school_id AND d.event_key = $3
        AND d.recipient_id = h.recipient_id AND d.fallback_of IS NULL`,
    [school.id, rows.map((r) => r.id), `digest:${today}`],
  );
  return digests.length;
}

/** The fortnight's report, per pupil, to each of their guardians: the last complete fortnight up to today. */
async function progressReportsOf(client: PoolClient, school: NotifySchool, today: string, now: Date, enqueue: Enqueue): Promise<number> {
  if (!school.newsSourceId) return 0;
  const from = shiftDays(today, -(school.policy.report.everyDays - 1));
  const reports = await progressReports(client, { schoolId: school.id, sourceId: school.newsSourceId, from, to: today });
  const { rows: guardians } = await client.query<{ pupil_id: string; guardian_id: string }>(
    `SELECT pupil_id::text, guardian_id::text FROM guardianship WHERE school_id = $1 AND deleted_at IS NULL AND pupil_id = ANY($2::uuid[])`,
    [school.id, [...reports.keys()]],
  );
  const reach = await loadReach(client, school.id, guardians.map((g) => g.guardian_id));
  const notBefore = sendableAt(now, school.timeZone, school.policy.quietHours);
  const rows: NewNotification[] = guardians.map((g) => ({
    eventKey: `report:${from}:${g.pupil_id}`, recipientId: g.guardian_id, kind: 'progress_report', purpose: 'reports', pupilId: g.pupil_id,
    data: reports.get(g.pupil_id) as unknown as Record<string, unknown>, route: route(reach, g.guardian_id, 'reports', school.policy.channels, school.providers), notBefore,
  }));
  return writeOutbox(client, school.id, rows, enqueue);
}
