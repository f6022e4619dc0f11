import { DEFAULT_SCALE, mapAttendanceCode, mapMarkValue, normalizeCode } from '../ports/values.js';

/** What one paper cell says: its marks (as written, in order) and its absence code, if any. */
export interface CellTokens {
  marks: string[];
  absence: string | null;
}

export type CellReading = { ok: true; tokens: CellTokens } | { ok: false; reason: string };

/**
 * Reads a cell as the paper shows it: «5», «4-», «зч», «н», «5 4», «5/4»…, several tokens separated by
 * spaces. A «/» keeps what the value tables read whole («н/а», «осв/ф», and the double mark «2/5» of
 * literacy / content that regulation 001 writes with a slash); otherwise it separates two tokens
 * («5/н»). «н», «б», «у», «оп» and the other attendance codes are the absence, one per cell; an «н» after
 * it is a mark (some platforms write «н» among the marks beside the absence: «Б н»).
 */
export function readCell(text: string, scale = DEFAULT_SCALE): CellReading {
  const marks: string[] = [];
  let absence: string | null = null;
  for (const token of splitTokens(text, scale)) {
    if (isAbsence(token) && (absence === null || !isAbsenceMark(token))) {
      if (absence !== null) return { ok: false, reason: `«${absence}» and «${token}»: a cell holds one absence` };
      absence = token;
      continue;
    }
    if (mapMarkValue(token, {}, scale).kind === 'other') return { ok: false, reason: `«${token}» is not a mark on the ${scale}-point scale` };
    if (token.length > 20) return { ok: false, reason: `«${token.slice(0, 20)}…» is longer than a mark` };
    marks.push(token);
  }
  return { ok: true, tokens: { marks, absence } };
}

function splitTokens(text: string, scale: number): string[] {
  const tokens: string[] = [];
  for (const word of text.split(/\s+/).filter((w) => w.length > 0 && w !== '/')) {
    const whole = mapMarkValue(word, {}, scale).kind !== 'other' || isAbsence(word);
    if (whole || !word.includes('/')) tokens.push(word);
    else tokens.push(...word.split('/').filter((w) => w.length > 0));
  }
  return tokens;
}

/** An attendance code, or a mark word that means «absent» (н, нб); «осв» stays a mark (exempt). */
export function isAbsence(token: string): boolean {
  const asMark = mapMarkValue(token).kind;
  if (asMark === 'absence') return true;
  return mapAttendanceCode(token) !== 'unknown' && (asMark === 'other' || asMark === 'late');
}

/** A mark value that means «absent» (н, нб, отс): a mark record when the cell already has its absence. */
function isAbsenceMark(token: string): boolean {
  return mapMarkValue(token).kind === 'absence';
}

/** The text a cell shows for stored values: the absence code first, then the marks in order. */
export function formatCell(marks: readonly string[], absence: string | null): string {
  return [...(absence ? [absence] : []), ...marks].join(' ');
}

/** Two spellings of one value are the same token («Н» = «н», «зачёт» = «зачет», «5−» = «5-»). */
export function sameToken(a: string, b: string): boolean {
  return normalizeCode(a).replace(/−|–/g, '-') === normalizeCode(b).replace(/−|–/g, '-');
}

/** Two token lists equal element by element, in order. */
export function sameTokens(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => sameToken(t, b[i]!));
}
