import { createHash } from 'node:crypto';
import type { DemoAbsenceCode, DemoWorkCategory } from '../../src/demo/types.js';

export type Json = Record<string, unknown>;

/** The building blocks of the simulator's answers: Kundoluk's spellings of a generated school's values, ids and times. */

/** Kyrgyz names of the demo curriculum's subjects (the Russian name is `nameRu`). */
export const KYRGYZ_NAMES: Record<string, string> = {
  'Русский язык': 'Орус тили', 'Кыргызский язык': 'Кыргыз тили', 'Литературное чтение': 'Адабий окуу', 'Литература': 'Адабият',
  'Английский язык': 'Англис тили', 'Математика': 'Математика', 'Алгебра': 'Алгебра', 'Геометрия': 'Геометрия',
  'Вероятность и статистика': 'Ыктымалдуулук жана статистика', 'Окружающий мир': 'Мекен таануу', 'Информатика': 'Информатика',
  'История': 'Тарых', 'Обществознание': 'Коом таануу', 'География': 'География', 'Биология': 'Биология', 'Физика': 'Физика',
  'Химия': 'Химия', 'Музыка': 'Музыка', 'Изобразительное искусство': 'Сүрөт искусствосу', 'Труд (технология)': 'Эмгек (технология)',
  'Основы религиозных культур и светской этики': 'Диний маданияттардын негиздери', 'Основы безопасности и защиты Родины': 'Коопсуздук жана Мекенди коргоо',
  'Физическая культура': 'Дене тарбия',
};

/** Work categories of the generator → `mark_type` (Kundoluk has no essay or oral type [I]). */
export const MARK_TYPE: Record<DemoWorkCategory, string> = {
  oral: 'general', written: 'write', control: 'control', essay: 'write', lab: 'laboratory', practical: 'practice', homework: 'homework', test: 'test', other: 'general',
};

/**
 * Absence codes → `absent`, `absent_type`, `absent_reason`: the platform's types are `absent`, `late` and
 * `present` only (the Python client's enum), so an illness or a valid reason shows in the free-text
 * reason alone [I: the reasons' wording]; lateness is `absent_type: 'late'` with `late_minutes`.
 */
export const ABSENCE: Record<DemoAbsenceCode, { absent: boolean; type: string; reason: string | null }> = {
  Н: { absent: true, type: 'absent', reason: null },
  Б: { absent: true, type: 'absent', reason: 'Болезнь' },
  УП: { absent: true, type: 'absent', reason: 'Семейные обстоятельства' },
  ОП: { absent: false, type: 'late', reason: null },
};

/** How Kundoluk writes a generated absence code (`absent_type`). */
export const absentTypeOf = (code: string): string => ABSENCE[code as DemoAbsenceCode]?.type ?? code;

/** The zero UUID the platform writes for "none" (the Python client's docstrings). */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export const OKPO = '20481736';
export const hex = (kind: string, key: string) => createHash('sha1').update(`${kind}/${key}`).digest('hex');

/** A stable uuid-shaped id. */
export function uuidOf(kind: string, key: string): string {
  const h = hex(kind, key);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * An entry of a lesson's `marks[]` (snake_case but `idStudent`): its ids (of `kind` and `id`), its lesson,
 * the pupil, and `fields` — what makes it a mark, an absence or a quarter mark — over a plain entry's defaults.
 */
export function entryJson(kind: string, id: string, lessonId: string, person: Json, fields: Json): Json {
  return {
    mark_id: String(parseInt(hex(kind, id).slice(0, 11), 16)), ls_uid: uuidOf('lesson', lessonId), uid: uuidOf(kind, id), ...person,
    mark: 0, mark_type: '', old_mark: null, custom_mark: null, absent: false, absent_type: '', absent_reason: null, late_minutes: 0, note: null, success: false,
    ...fields,
  };
}

/** A 14-digit personal number (ПИН). */
export const pinOf = (key: string) => `2${String(parseInt(hex('pin', key).slice(0, 12), 16)).padStart(13, '0').slice(-13)}`;

/** Marks are integers in Kundoluk: «5-» arrives as 5 [I]; words and «2/5» as `custom_mark`. */
export function kundolukMark(value: string): { mark: number; custom_mark: string | null } {
  const digit = /^(\d)[+-]?$/.exec(value);
  return digit ? { mark: Number(digit[1]), custom_mark: null } : { mark: 0, custom_mark: value };
}

/** "2025-09-01T10:15:00+03:00" → "2025-09-01T10:15:00": the server writes school-local times [I]. */
export const local = (instant: string) => instant.slice(0, 19);

/** A lesson's length as `lessonTime` has it: «HH:MM:SS» (the Python client). */
export function durationOf(start: string, end: string): string {
  const minutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
  const length = minutes(end) - minutes(start);
  return `${String(Math.floor(length / 60)).padStart(2, '0')}:${String(length % 60).padStart(2, '0')}:00`;
}

/** Remembers the last few answers' building blocks (a class's lessons of a range, their facts). */
export class Recent<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(key: string, make: () => V): V {
    let value = this.map.get(key);
    if (value === undefined) {
      value = make();
      this.map.set(key, value);
      if (this.map.size > this.size) this.map.delete(this.map.keys().next().value!);
    }
    return value;
  }
}
