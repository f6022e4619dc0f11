import type { ClassRecord } from '../ports/records.js';
import type { BatchContext } from './context.js';
import { subjectNameKey } from './normalize.js';
import type { Pending } from './shared.js';

/**
 * Subgroup matching across sources. Platforms name one subgroup each their own way — «2А англ. гр. 1»,
 * «2А Английский язык гр. 1», «2А Английский язык 1 группа» — so the natural key (the normalized
 * name) links only identical spellings. A subgroup the key did not match is matched by what its name
 * says: its class (the record's parent), its subject (the words of the name against the school's
 * subjects: name, short name, names in other languages; abbreviations by word prefix) and its group
 * number. Only subgroups of the same class not yet linked to this source are candidates. One
 * candidate: linked, and the row keeps the name it has. None, where the class has no subgroup from
 * another source or the name says another group: a new subgroup. A name that says too little to
 * tell, or several candidates: the record is rejected with the reason — reported, never created twice.
 */

/** What a subgroup's name says: the subject words (class and group number removed) and the number. */
export interface SubgroupName {
  label: string;
  number?: number;
}

const NUMBER_PATTERNS: RegExp[] = [
  /(?:^|\s)(?:под)?гр(?:уппа|\.)?\s*№?\s*(\d{1,2})(?=\s|$)/u, // «гр. 1», «группа 2», «подгруппа 1»
  /(?:^|\s)(\d{1,2})\s*(?:-?а?я)?\s*(?:под)?гр(?:уппа|\.)?(?=\s|$)/u, // «1 группа», «1-я подгруппа», «2 гр.»
  /(?:^|\s)(\d{1,2})$/u, // «Английский язык 2»
  /(?<=\p{L})(\d{1,2})(?=\s|$)/u, // «Алг1»
];

/** «5А англ. гр. 1» → { label: 'англ', number: 1 }; the class at the front is dropped. */
export function parseSubgroupName(name: string): SubgroupName {
  let rest = name.toLowerCase().replace(/ё/g, 'е').replace(/\s+/g, ' ').trim();
  rest = rest.replace(/^\d{1,2}\s*[-–]?\s*\p{L}?(?=[\s.]|$)/u, '');
  let number: number | undefined;
  for (const pattern of NUMBER_PATTERNS) {
    const match = pattern.exec(rest);
    if (!match) continue;
    number = Number(match[1]);
    rest = `${rest.slice(0, match.index)} ${rest.slice(match.index + match[0].length)}`;
    break;
  }
  return { label: subjectNameKey(rest), ...(number === undefined ? {} : { number }) };
}

export interface SubjectNames {
  id: string;
  names: string[];
}

/** The one subject whose name (or short or other-language name) the label spells or abbreviates word by word. */
export function subjectOfLabel(label: string, subjects: readonly SubjectNames[]): string | undefined {
  const words = label.split(' ').filter(Boolean);
  if (words.length === 0 || words[0]!.length < 3) return undefined;
  const found = new Set<string>();
  for (const subject of subjects) {
    const spelled = subject.names.some((name) => {
      const full = subjectNameKey(name).split(' ');
      return words.length <= full.length && words.every((w, i) => full[i]!.startsWith(w));
    });
    if (spelled) found.add(subject.id);
  }
  return found.size === 1 ? [...found][0] : undefined;
}

interface Identity {
  subjectId?: string;
  number?: number;
}

interface Candidate extends Identity {
  id: string;
  parentId: string;
  yearId: string;
  name: string;
}

const complete = (i: Identity): boolean => i.subjectId !== undefined && i.number !== undefined;

/** SharedSpec.rematch of classes: the new subgroups of a batch, against the subgroups other sources made. */
export async function rematchSubgroups(ctx: BatchContext, fresh: Pending<ClassRecord>[]): Promise<void> {
  const subgroups = fresh.filter((p) => typeof p.row.parent_id === 'string');
  if (subgroups.length === 0) return;
  const subjects = await readSubjects(ctx);
  const candidates = await readCandidates(ctx, [...new Set(subgroups.map((p) => String(p.row.parent_id)))], subjects);
  const claimedBy = new Map<string, number>();
  for (const p of subgroups) {
    const others = candidates.filter((c) => c.parentId === p.row.parent_id && c.yearId === p.row.academic_year_id);
    if (others.length === 0) continue;
    const identity = identify(String(p.row.name), subjects);
    const matches = complete(identity) ? others.filter((c) => c.subjectId === identity.subjectId && c.number === identity.number) : [];
    const unclear = others.filter((c) => !complete(c));
    if (matches.length === 0 && complete(identity) && unclear.length === 0) continue;
    const earlier = matches.length === 1 ? claimedBy.get(matches[0]!.id) : undefined;
    const problem = !complete(identity)
      ? `its name does not say ${identity.subjectId ? 'the group number' : identity.number === undefined ? 'the subject and the group number' : 'a subject of this school'}`
      : matches.length > 1 ? `${matches.length} subgroups of the class have the same subject and number`
        : earlier !== undefined ? `record #${earlier} of this batch matched the same subgroup`
          : matches.length === 0 ? `the class's subgroups ${unclear.map((c) => `«${c.name}»`).join(', ')} do not say their subject and number` : undefined;
    if (problem) {
      ctx.reject(p.entry, `cannot match subgroup «${String(p.row.name)}» to the subgroups other sources gave its class (${others.map((c) => `«${c.name}»`).join(', ')}): ${problem}; it is not created twice — rename it at the source or link it by hand`);
      p.rejected = true;
      continue;
    }
    const match = matches[0]!;
    claimedBy.set(match.id, p.entry.index);
    p.targetId = match.id;
    // The subgroup keeps the name it has: two sources renaming it in turn would rewrite its history on every sync.
    p.row.name = undefined;
    p.row.name_key = undefined;
  }
}

function identify(name: string, subjects: readonly SubjectNames[]): Identity {
  const parsed = parseSubgroupName(name);
  return { subjectId: subjectOfLabel(parsed.label, subjects), number: parsed.number };
}

async function readSubjects(ctx: BatchContext): Promise<SubjectNames[]> {
  const { rows } = await ctx.client.query<{ id: string; name: string; short_name: string | null; alt_names: string | null }>(
    'SELECT id::text, name, short_name, alt_names FROM subject WHERE school_id = $1 AND deleted_at IS NULL',
    [ctx.source.schoolId],
  );
  return rows.map((r) => ({
    id: r.id,
    names: [r.name, ...(r.short_name ? [r.short_name] : []), ...Object.values(r.alt_names ? (JSON.parse(r.alt_names) as Record<string, string>) : {})],
  }));
}

/** Live subgroups of the classes, except those this source already links (its own other subgroups). */
async function readCandidates(ctx: BatchContext, parentIds: string[], subjects: readonly SubjectNames[]): Promise<Candidate[]> {
  const { rows } = await ctx.client.query<{ id: string; parent_id: string; academic_year_id: string; name: string }>(
    `SELECT g.id::text, g.parent_id::text, g.academic_year_id::text, g.name
       FROM class_group g
      WHERE g.school_id = $1 AND g.parent_id = ANY($3::uuid[]) AND g.deleted_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM external_ref r WHERE r.connection_id = $2 AND r.entity_type = 'class'
                          AND r.canonical_id = g.id AND r.gone_at IS NULL)`,
    [ctx.source.schoolId, ctx.source.id, parentIds],
  );
  return rows.map((r) => ({ id: r.id, parentId: r.parent_id, yearId: r.academic_year_id, name: r.name, ...identify(r.name, subjects) }));
}
