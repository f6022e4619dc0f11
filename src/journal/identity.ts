import type { PersonRecord } from '../ports/records.js';
import type { BatchContext } from './context.js';
import { newId } from './ids.js';
import { middleNamesAgree } from './normalize.js';
import type { Pending } from './shared.js';

/**
 * Identity matching: a person this source has not linked yet is matched to an existing person of the
 * school by normalized last + first name, in the right scope — a pupil among the pupils of the class the
 * record names, a guardian among the guardians of the record's pupils, staff among staff — and only
 * when middle names and birth dates, where both sides know them, agree. One candidate: linked. None:
 * a new person. Several: the record is rejected as ambiguous — reported, never guessed. Persons
 * already linked to this source under another id are not candidates.
 */

interface Candidate {
  id: string;
  name_key: string;
  middle_name: string | null;
  birth_date: string | null;
  classes: string[];
  wards: string[];
  staff: boolean;
  linked: boolean;
}

export async function locatePersons(ctx: BatchContext, pending: Pending<PersonRecord>[]): Promise<void> {
  if (pending.length === 0) return;
  const candidates = await readCandidates(ctx, [...new Set(pending.map((p) => String(p.row.name_key)))]);
  const claimedBy = new Map<string, number>();
  for (const p of pending) {
    const matches = (candidates.get(String(p.row.name_key)) ?? []).filter((c) => fits(ctx, p, c));
    if (matches.length > 1) {
      ctx.conflict(p.entry, `ambiguous identity: ${matches.length} persons already in the journal match this ${p.entry.record.role} (${scopeOf(p.entry.record)}, same name); give a birth date or link it by hand`, matches.map((m) => m.id));
      p.rejected = true;
      continue;
    }
    const match = matches[0];
    if (!match) {
      p.targetId = newId();
      continue;
    }
    const earlier = claimedBy.get(match.id);
    if (earlier !== undefined) {
      ctx.conflict(p.entry, `ambiguous identity: matches the same person as record #${earlier} of this batch`, [match.id]);
      p.rejected = true;
      continue;
    }
    claimedBy.set(match.id, p.entry.index);
    p.targetId = match.id;
  }
}

function fits(ctx: BatchContext, p: Pending<PersonRecord>, c: Candidate): boolean {
  const record = p.entry.record;
  if (c.linked) return false;
  if (!middleNamesAgree(record.middleName, c.middle_name)) return false;
  if (record.birthDate && c.birth_date && record.birthDate !== c.birth_date) return false;
  switch (record.role) {
    case 'pupil': {
      const classId = ctx.refs.resolve('class', record.classExternalId);
      return classId ? c.classes.includes(classId) : c.classes.length > 0;
    }
    case 'guardian': {
      const pupils = (record.pupilExternalIds ?? []).map((id) => ctx.refs.resolve('person', id)).filter(Boolean);
      return pupils.length > 0 ? c.wards.some((w) => pupils.includes(w)) : c.wards.length > 0;
    }
    default:
      return c.staff || (c.classes.length === 0 && c.wards.length === 0);
  }
}

function scopeOf(record: PersonRecord): string {
  if (record.role === 'pupil') return record.classExternalId ? `class "${record.classExternalId}"` : 'any class';
  if (record.role === 'guardian') return 'guardians of the same pupils';
  return 'staff';
}

async function readCandidates(ctx: BatchContext, nameKeys: string[]): Promise<Map<string, Candidate[]>> {
  const { rows } = await ctx.client.query<Candidate>(
    `SELECT p.id::text, p.name_key, p.middle_name, p.birth_date::text,
            ARRAY(SELECT e.class_group_id::text FROM enrollment e WHERE e.person_id = p.id) AS classes,
            ARRAY(SELECT g.pupil_id::text FROM guardianship g WHERE g.guardian_id = p.id AND g.deleted_at IS NULL) AS wards,
            EXISTS (SELECT 1 FROM staff_role s WHERE s.person_id = p.id AND s.deleted_at IS NULL) AS staff,
            EXISTS (SELECT 1 FROM external_ref r WHERE r.connection_id = $2 AND r.entity_type = 'person'
                      AND r.canonical_id = p.id AND r.gone_at IS NULL) AS linked
       FROM person p
      WHERE p.school_id = $1 AND p.name_key = ANY($3::text[]) AND p.deleted_at IS NULL`,
    [ctx.source.schoolId, ctx.source.id, nameKeys],
  );
  const byKey = new Map<string, Candidate[]>();
  for (const row of rows) {
    const list = byKey.get(row.name_key) ?? [];
    list.push(row);
    byKey.set(row.name_key, list);
  }
  return byKey;
}
