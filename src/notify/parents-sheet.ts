import ExcelJS from 'exceljs';
import { withTransaction, type Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { AppError, NotFoundError } from '../lib/errors.js';
import { countryOf, normalizeAddress } from './contacts.js';

/**
 * A class's parents as a sheet the class teacher fills from the paper consent forms: one row per pupil
 * and guardian (ids in hidden columns), their phone and e-mail as known, and whether the form consents to
 * notifications by e-mail and by SMS (да / нет) with the form's number. The import writes the contacts
 * the school entered (normalised: E.164, lower-case e-mail) and records or withdraws consent (method
 * `paper_form`, the number as evidence, by whom) for marks, attendance and reports. A bad row is
 * rejected alone with its cell and the reason; a file that is not this sheet is refused whole (422).
 */
const SHEET = 'Родители';
const MARKER = 'journal-bridge:parents:v1';
const HEADERS = ['', '', 'Ученик', 'Родитель', 'Кем приходится', 'Телефон', 'E-mail', 'Согласие: e-mail', 'Согласие: SMS', '№ заявления'];
const PURPOSES = ['marks', 'attendance', 'reports'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_PARENTS_BYTES = 5 * 1024 * 1024;

interface ClassRow { school_id: string; name: string; region: string; time_zone: string }

async function classOf(pool: Pool, classId: string): Promise<ClassRow> {
  const { rows } = await pool.query<ClassRow>(
    `SELECT cg.school_id::text, cg.name, s.region, s.time_zone FROM class_group cg JOIN school s ON s.id = cg.school_id WHERE cg.id = $1 AND cg.deleted_at IS NULL`, [classId]);
  if (!rows[0]) throw new NotFoundError('class');
  return rows[0];
}

/** The class's sheet, filled with what the journal knows. */
export async function parentsTemplate(pool: Pool, classId: string): Promise<Buffer> {
  await classOf(pool, classId);
  const { rows } = await pool.query<{ pupil_id: string; guardian_id: string; pupil: string; parent: string; relation: string | null; phone: string | null; email: string | null; by_email: boolean; by_sms: boolean }>(
    `SELECT pu.id::text AS pupil_id, pa.id::text AS guardian_id, concat_ws(' ', pu.last_name, pu.first_name) AS pupil,
            concat_ws(' ', pa.last_name, pa.first_name, pa.middle_name) AS parent, g.relation,
            (SELECT address FROM contact_point c WHERE c.school_id = g.school_id AND c.person_id = pa.id AND c.channel = 'sms' AND c.usable ORDER BY c.origin = 'school' DESC, c.updated_at DESC LIMIT 1) AS phone,
            (SELECT address FROM contact_point c WHERE c.school_id = g.school_id AND c.person_id = pa.id AND c.channel = 'email' AND c.usable ORDER BY c.origin = 'school' DESC, c.updated_at DESC LIMIT 1) AS email,
            EXISTS (SELECT 1 FROM consent k WHERE k.school_id = g.school_id AND k.person_id = pa.id AND k.channel = 'email' AND k.withdrawn_at IS NULL) AS by_email,
            EXISTS (SELECT 1 FROM consent k WHERE k.school_id = g.school_id AND k.person_id = pa.id AND k.channel = 'sms' AND k.withdrawn_at IS NULL) AS by_sms
       FROM enrollment e JOIN person pu ON pu.id = e.person_id
       JOIN guardianship g ON g.pupil_id = pu.id AND g.deleted_at IS NULL JOIN person pa ON pa.id = g.guardian_id
      WHERE e.class_group_id = $1 AND e.end_date IS NULL AND pu.deleted_at IS NULL
      ORDER BY pu.name_key, pu.id, pa.name_key, pa.id`, [classId]);
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Journal Bridge';
  const sheet = workbook.addWorksheet(SHEET, { views: [{ state: 'frozen', ySplit: 2, xSplit: 3 }] });
  sheet.addRow([MARKER, classId]);
  sheet.addRow(HEADERS);
  for (const r of rows) {
    sheet.addRow([r.pupil_id, r.guardian_id, r.pupil, r.parent, r.relation ?? '', r.phone ?? '', r.email ?? '', r.by_email ? 'да' : 'нет', r.by_sms ? 'да' : 'нет', '']);
  }
  sheet.getRow(1).hidden = true;
  sheet.getColumn(1).hidden = true;
  sheet.getColumn(2).hidden = true;
  sheet.getRow(2).font = { bold: true };
  for (const [c, width] of [[3, 28], [4, 34], [5, 14], [6, 18], [7, 30], [8, 16], [9, 16], [10, 14]] as const) {
    sheet.getColumn(c).width = width;
    sheet.getColumn(c).numFmt = '@';
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

export interface ParentsImportResult {
  rows: number;
  contacts: number;
  consentsGranted: number;
  consentsWithdrawn: number;
  rejected: Array<{ cell: string; reason: string }>;
}

/** Reads a filled sheet and writes what it says; nothing is written when the file is refused. */
export async function importParents(pool: Pool, clock: Clock, input: { classId: string; body: Buffer; actor: string }): Promise<ParentsImportResult> {
  const cls = await classOf(pool, input.classId);
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(input.body as unknown as ArrayBuffer);
  } catch {
    throw new AppError('unreadable_file', 'the file cannot be read as an XLSX workbook', 422);
  }
  const sheet = workbook.getWorksheet(SHEET);
  const text = (row: ExcelJS.Row, c: number) => {
    const v = row.getCell(c).value;
    if (v === null || v === undefined) return '';
    if (typeof v === 'object' && 'text' in v) return String((v as { text: unknown }).text).trim();
    return String(v).trim();
  };
  if (!sheet || text(sheet.getRow(1), 1) !== MARKER || text(sheet.getRow(1), 2) !== input.classId) {
    throw new AppError('not_the_template', `not this class's parents sheet: sheet «${SHEET}» with the hidden marker of class ${cls.name} is missing`, 422);
  }
  if (sheet.rowCount > 2000) throw new AppError('too_large', 'more rows than any class has parents', 422);
  const { rows: known } = await pool.query<{ pupil_id: string; guardian_id: string }>(
    `SELECT g.pupil_id::text, g.guardian_id::text FROM guardianship g JOIN enrollment e ON e.person_id = g.pupil_id
      WHERE e.class_group_id = $1 AND g.deleted_at IS NULL`, [input.classId]);
  const pairs = new Set(known.map((k) => `${k.pupil_id}|${k.guardian_id}`));
  const result: ParentsImportResult = { rows: 0, contacts: 0, consentsGranted: 0, consentsWithdrawn: 0, rejected: [] };
  const country = countryOf(cls.region, cls.time_zone);
  const yesNo = (v: string) => (/^(да|yes|1|\+|ооба)$/i.test(v) ? true : /^(нет|no|0|-|жок|)$/i.test(v) ? false : undefined);
  await withTransaction(pool, async (client) => {
    for (let r = 3; r <= sheet.rowCount; r++) {
      const row = sheet.getRow(r);
      const [pupil, guardian] = [text(row, 1), text(row, 2)];
      if (!pupil && !guardian && !text(row, 6) && !text(row, 7)) continue;
      result.rows += 1;
      if (!UUID.test(pupil) || !UUID.test(guardian) || !pairs.has(`${pupil}|${guardian}`)) {
        result.rejected.push({ cell: `${SHEET}!A${r}`, reason: 'the row is not one of this class’s pupils and their guardians (added by hand? the hidden ids are missing or changed)' });
        continue;
      }
      const phoneText = text(row, 6);
      const emailText = text(row, 7);
      const phone = phoneText ? normalizeAddress('sms', phoneText, country) : undefined;
      const email = emailText ? normalizeAddress('email', emailText) : undefined;
      const byEmail = yesNo(text(row, 8));
      const bySms = yesNo(text(row, 9));
      const problems: Array<{ cell: string; reason: string }> = [];
      if (phoneText && !phone) problems.push({ cell: `${SHEET}!F${r}`, reason: 'not a phone number' });
      if (emailText && !email) problems.push({ cell: `${SHEET}!G${r}`, reason: 'not an e-mail address' });
      if (byEmail === undefined) problems.push({ cell: `${SHEET}!H${r}`, reason: 'write да or нет' });
      if (bySms === undefined) problems.push({ cell: `${SHEET}!I${r}`, reason: 'write да or нет' });
      if (byEmail && !email) problems.push({ cell: `${SHEET}!G${r}`, reason: 'consent by e-mail needs an e-mail address' });
      if (bySms && !phone) problems.push({ cell: `${SHEET}!F${r}`, reason: 'consent by SMS needs a phone number' });
      if (problems.length > 0) {
        result.rejected.push(...problems);
        continue;
      }
      for (const [channel, address] of [['sms', phone], ['email', email]] as const) {
        if (!address) continue;
        const { rowCount } = await client.query(
          `INSERT INTO contact_point (school_id, person_id, channel, address, origin) VALUES ($1, $2, $3, $4, 'school')
           ON CONFLICT (school_id, person_id, channel, address) DO UPDATE SET origin = 'school', usable = true, unusable_reason = NULL, unusable_at = NULL, updated_at = now()
            WHERE contact_point.origin <> 'school' OR NOT contact_point.usable`,
          [cls.school_id, guardian, channel, address]);
        result.contacts += rowCount ?? 0;
      }
      const form = text(row, 10) || null;
      for (const [channel, wanted] of [['email', byEmail], ['sms', bySms]] as const) {
        if (wanted) {
          const { rowCount } = await client.query(
            `INSERT INTO consent (school_id, person_id, channel, purpose, granted_at, method, evidence, granted_by)
             SELECT $1, $2, $3, p, $4, 'paper_form', $5, $6 FROM unnest($7::text[]) AS p
             ON CONFLICT (school_id, person_id, channel, purpose) WHERE withdrawn_at IS NULL DO NOTHING`,
            [cls.school_id, guardian, channel, clock.now(), form ? `заявление № ${form}` : 'заявление', input.actor, PURPOSES]);
          result.consentsGranted += rowCount ?? 0;
        } else {
          const { rowCount } = await client.query(
            `UPDATE consent SET withdrawn_at = $4, withdrawn_by = $5 WHERE school_id = $1 AND person_id = $2 AND channel = $3 AND withdrawn_at IS NULL`,
            [cls.school_id, guardian, channel, clock.now(), input.actor]);
          result.consentsWithdrawn += rowCount ?? 0;
        }
      }
    }
  });
  return result;
}
