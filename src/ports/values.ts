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

/**
 * How one platform spells the values the generic tables below read otherwise (codes lower-cased as
 * normalizeCode does). Each adapter carries its own (`Adapter.vocabulary`); the journal maps a record
 * that arrives without a kind with its source's vocabulary.
 */
export interface Vocabulary {
  marks?: Readonly<Record<string, MarkKind>>;
  attendance?: Readonly<Record<string, AttendanceKind>>;
}

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

/**
 * Maps a raw mark value. Numbers (with an optional +/−) within the scale are marks; «2/5» (a double
 * mark: literacy / content) is a mark without a single numeric value; words and codes go through the
 * tables; anything else is `other`, never an error.
 */
export function mapMarkValue(raw: string, vocabulary: Vocabulary = {}, scale = DEFAULT_SCALE): MappedMark {
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
  const kind = vocabulary.marks?.[code] ?? MARK_WORDS[code] ?? 'other';
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

/**
 * Maps a raw attendance code. A known lateness in minutes makes an otherwise unknown code `late`.
 */
export function mapAttendanceCode(raw: string, vocabulary: Vocabulary = {}, lateMinutes?: number): AttendanceKind {
  const code = normalizeCode(raw);
  const kind = vocabulary.attendance?.[code] ?? ATTENDANCE_CODES[code] ?? 'unknown';
  if (kind === 'unknown' && lateMinutes !== undefined && lateMinutes > 0) return 'late';
  return kind;
}
