import { createHash, randomInt } from 'node:crypto';
import type { PageContent } from '../reports/types.js';

/**
 * Digests of what is sealed. A page's digest is sha256 over its content in canonical JSON (keys sorted,
 * no whitespace, arrays in their order), so the same content gives the same digest whatever stored it
 * (JSONB reorders keys) or rendered it; the PDF's bytes are never hashed.
 */

/** Canonical JSON: object keys sorted by code point, `undefined` members left out (as JSON.stringify does). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export const pageDigest = (content: PageContent): string => sha256Hex(canonicalJson(content));

/** What a class's title page commits to: the class, the period and the digests of its subject pages in order. */
export interface TitleContent {
  classId: string;
  className: string;
  periodId: string;
  periodTitle: string;
  classTeacher: string | null;
  pages: Array<{ subjectId: string; subjectName: string; digest: string }>;
}

export const titleDigest = (content: TitleContent): string => sha256Hex(canonicalJson(content));

/** The seal's root: its chain position and every page's digest, in (class, subject) order. */
export function rootDigest(chain: { seq: string; hash: string }, pages: Array<{ classId: string; subjectId: string; digest: string }>): string {
  return sha256Hex(canonicalJson({ chain, pages: pages.map((p) => [p.classId, p.subjectId, p.digest]) }));
}

/** Crockford's base32 without I, L, O, U: easy to read off paper and type. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A short code a printout carries: «JB-7K3Q-94XD» (40 random bits). */
export function sealCode(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += ALPHABET[randomInt(32)];
  return `JB-${s.slice(0, 4)}-${s.slice(4)}`;
}

/** A code as typed: case, spaces and look-alike letters forgiven (o → 0, i/l → 1). */
export function normalizeCode(code: string): string | null {
  const s = code.toUpperCase().replace(/[\s-]/g, '').replace(/^JB/, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (!/^[0-9A-HJKMNP-TV-Z]{8}$/.test(s)) return null;
  return `JB-${s.slice(0, 4)}-${s.slice(4)}`;
}

/** One difference between a sealed page and the journal now. */
export type PageChange =
  | { kind: 'cell'; pupil: { id: string; name: string; row: number }; lesson: { id: string; date: string; slot: number }; sealed: string; now: string }
  | { kind: 'period_mark'; pupil: { id: string; name: string; row: number }; sealed: string | null; now: string | null }
  | { kind: 'lesson'; lesson: { id: string; date: string; slot: number }; field: 'topic' | 'homework' | 'status' | 'date' | 'slot' | 'group'; sealed: string | number | null; now: string | number | null }
  | { kind: 'lesson_added' | 'lesson_removed'; lesson: { id: string; date: string; slot: number } }
  | { kind: 'pupil_added' | 'pupil_removed'; pupil: { id: string; name: string; row: number } }
  | { kind: 'header'; field: string; sealed: unknown; now: unknown };

/** Every difference between two versions of one page, cell by cell (cells of lessons and pupils on both). */
export function diffPages(sealed: PageContent, now: PageContent): PageChange[] {
  const changes: PageChange[] = [];
  for (const field of ['className', 'subjectName', 'periodTitle', 'from', 'to', 'teachers', 'source'] as const) {
    if (canonicalJson(sealed[field] ?? null) !== canonicalJson(now[field] ?? null)) changes.push({ kind: 'header', field, sealed: sealed[field] ?? null, now: now[field] ?? null });
  }
  const nowLessons = new Map(now.lessons.map((l, i) => [l.id, i]));
  const sealedLessons = new Map(sealed.lessons.map((l, i) => [l.id, i]));
  const at = (l: PageContent['lessons'][number]) => ({ id: l.id, date: l.date, slot: l.slot });
  for (const lesson of sealed.lessons) {
    const j = nowLessons.get(lesson.id);
    if (j === undefined) {
      changes.push({ kind: 'lesson_removed', lesson: at(lesson) });
      continue;
    }
    const other = now.lessons[j]!;
    for (const field of ['date', 'slot', 'group', 'topic', 'homework', 'status'] as const) {
      if ((lesson[field] ?? null) !== (other[field] ?? null)) changes.push({ kind: 'lesson', lesson: at(lesson), field, sealed: lesson[field] ?? null, now: other[field] ?? null });
    }
  }
  for (const lesson of now.lessons) if (!sealedLessons.has(lesson.id)) changes.push({ kind: 'lesson_added', lesson: at(lesson) });
  const nowPupils = new Map(now.pupils.map((p, i) => [p.id, i]));
  const sealedPupils = new Set(sealed.pupils.map((p) => p.id));
  sealed.pupils.forEach((pupil, i) => {
    const who = { ...pupil, row: i + 1 };
    const j = nowPupils.get(pupil.id);
    if (j === undefined) {
      changes.push({ kind: 'pupil_removed', pupil: who });
      return;
    }
    sealed.lessons.forEach((lesson, k) => {
      const m = nowLessons.get(lesson.id);
      const was = sealed.cells[i]?.[k] ?? '';
      const is = m === undefined ? '' : (now.cells[j]?.[m] ?? '');
      if (m !== undefined && was !== is) changes.push({ kind: 'cell', pupil: who, lesson: at(lesson), sealed: was, now: is });
    });
    const was = sealed.periodMarks[i] ?? null;
    const is = now.periodMarks[j] ?? null;
    if (was !== is) changes.push({ kind: 'period_mark', pupil: who, sealed: was, now: is });
  });
  now.pupils.forEach((pupil, j) => {
    if (!sealedPupils.has(pupil.id)) changes.push({ kind: 'pupil_added', pupil: { ...pupil, row: j + 1 } });
  });
  return changes;
}
