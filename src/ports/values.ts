/**
 * Mark values and attendance codes: what a platform writes → the canonical kind. The raw value is
 * always kept as written; these tables only decide `kind`, `numeric` and `scale`. Pure functions, shared
 * by adapters (which may know more, e.g. NetSchool's dutyMark) and the journal (which maps whatever an
 * adapter left unmapped). See ../shared/regulations.md "Absence codes" and platforms.md §6.1.
 */

export type MarkKind =
  | 'mark'
  | 'pass'
  | 'fail'
  | 'debt'
  | 'absence'
  | 'late'
  | 'exempt'
  | 'not_assessed'
  | 'other';

export type AttendanceKind = 'ill' | 'valid' | 'unexcused' | 'late' | 'unknown';

/** Whose spelling a raw value is in; decides the few codes platforms spell differently. */
export type Vocabulary = 'generic' | 'demo' | 'dnevnikru' | 'netschool' | 'edutatar' | 'kundoluk';

export interface MappedMark {
  kind: MarkKind;
  /** The official points value: «5-» → 5 (the minus is a teacher's nuance kept in raw); null when not a number. */
  numeric: number | null;
  scale: number | null;
}

export const DEFAULT_SCALE = 5;

/** Lower case, ё → е, no spaces or trailing dots: «Зачёт.» → «зачет», « Н » → «н». */
export function normalizeCode(raw: string): string {
  return raw.trim().toLowerCase().replace(/ё/g, 'е').replace(/\s+/g, '').replace(/\.+$/, '');
}

const MARK_WORDS: Record<string, MarkKind> = {
  зч: 'pass', зач: 'pass', зачет: 'pass', зачтено: 'pass', 'з': 'pass', pass: 'pass',
  нз: 'fail', незач: 'fail', незачет: 'fail', незачтено: 'fail', fail: 'fail',
  н: 'absence', нб: 'absence', отс: 'absence',
  оп: 'late',
  осв: 'exempt', 'осв/ф': 'exempt', освобожден: 'exempt', освоб: 'exempt',
  'н/а': 'not_assessed', на: 'not_assessed', 'н/атт': 'not_assessed', неаттестован: 'not_assessed',
  '.': 'debt', '•': 'debt', '·': 'debt', точка: 'debt', долг: 'debt', дз: 'debt',
};

/** Per-platform spellings that differ from the generic table ([I] where platforms.md marks them inferred). */
const MARK_OVERRIDES: Partial<Record<Vocabulary, Record<string, MarkKind>>> = {
  // edu.tatar.ru shows «з» for зачёт in term columns and «н» only in attendance cells.
  edutatar: { з: 'pass' },
};

/**
 * Maps a raw mark value. Numbers (with an optional +/−) within the scale are marks; «2/5» (a double
 * mark: literacy / content) is a mark without a single numeric value; words and codes go through the
 * tables; anything else is `other`, never an error.
 */
export function mapMarkValue(raw: string, vocabulary: Vocabulary = 'generic', scale = DEFAULT_SCALE): MappedMark {
  const code = normalizeCode(raw).replace(/−|–/g, '-');
  const points = /^(\d{1,3})([+-])?$/.exec(code);
  if (points) {
    const value = Number(points[1]);
    if (value >= 1 && value <= scale) return { kind: 'mark', numeric: value, scale };
    return { kind: 'other', numeric: null, scale: null };
  }
  const double = /^(\d{1,3})[+-]?\/(\d{1,3})[+-]?$/.exec(code);
  if (double && Number(double[1]) <= scale && Number(double[2]) <= scale) {
    return { kind: 'mark', numeric: null, scale };
  }
  const kind = MARK_OVERRIDES[vocabulary]?.[code] ?? MARK_WORDS[code] ?? 'other';
  return { kind, numeric: null, scale: null };
}

const ATTENDANCE_CODES: Record<string, AttendanceKind> = {
  // Regulation 001, Инструкция 5.2: Б — ill, У — valid reason, Н — no valid reason, О — late.
  б: 'ill', бол: 'ill', болезнь: 'ill', бл: 'ill', ill: 'ill',
  у: 'valid', уп: 'valid', ув: 'valid', уваж: 'valid', уважительная: 'valid', осв: 'valid', valid: 'valid',
  н: 'unexcused', нп: 'unexcused', нн: 'unexcused', неуваж: 'unexcused', неуважительная: 'unexcused', прогул: 'unexcused', unexcused: 'unexcused',
  о: 'late', оп: 'late', опоз: 'late', опоздание: 'late', late: 'late',
  п: 'unknown', пропуск: 'unknown', отс: 'unknown', absent: 'unknown',
};

/** Per-platform spellings ([I]: platforms.md lists no verified code tables for these). */
const ATTENDANCE_OVERRIDES: Partial<Record<Vocabulary, Record<string, AttendanceKind>>> = {
  // Dnevnik.ru lesson log entry statuses (English enum names) [I].
  dnevnikru: { absent: 'unexcused', ill: 'ill', late: 'late', pass: 'valid', attend: 'unknown' },
  // Kundoluk: `absent_type` values seen in the app's strings [I].
  kundoluk: { sick: 'ill', reason: 'valid', noreason: 'unexcused', late: 'late' },
};

/**
 * Maps a raw attendance code. A known lateness in minutes makes an otherwise unknown code `late`.
 */
export function mapAttendanceCode(raw: string, vocabulary: Vocabulary = 'generic', lateMinutes?: number): AttendanceKind {
  const code = normalizeCode(raw);
  const kind = ATTENDANCE_OVERRIDES[vocabulary]?.[code] ?? ATTENDANCE_CODES[code] ?? 'unknown';
  if (kind === 'unknown' && lateMinutes !== undefined && lateMinutes > 0) return 'late';
  return kind;
}

/** The vocabulary a connection's platform writes in (the demo writes like a paper journal). */
export function vocabularyOf(platform: string): Vocabulary {
  const known: Vocabulary[] = ['demo', 'dnevnikru', 'netschool', 'edutatar', 'kundoluk'];
  return (known as string[]).includes(platform) ? (platform as Vocabulary) : 'generic';
}
