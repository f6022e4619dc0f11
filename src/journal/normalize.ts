/**
 * Keys that let the same thing be recognised across sources whatever the spelling.
 */

const LATIN_LOOKALIKES: Record<string, string> = {
  A: 'А', B: 'В', C: 'С', E: 'Е', H: 'Н', K: 'К', M: 'М', O: 'О', P: 'Р', T: 'Т', X: 'Х', Y: 'У',
};

function words(value: string): string {
  return value
    .toLowerCase()
    .replace(/ё/g, 'е')
    .replace(/[^\p{L}\p{N}-]+/gu, ' ')
    .trim()
    .replace(/\s+/g, ' ');
}

/** «Иванова  Алёна» → «иванова алена». The middle name is compared separately (sources often omit it). */
export function personNameKey(lastName: string, firstName: string): string {
  return `${words(lastName)} ${words(firstName)}`;
}

/** Middle names agree when equal or when either side does not know it. */
export function middleNamesAgree(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return true;
  return words(a) === words(b);
}

/** «5 а», «5-А», «5A» (Latin A) → «5А». */
export function classNameKey(name: string): string {
  return name
    .toUpperCase()
    .replace(/Ё/g, 'Е')
    .replace(/[ABCEHKMOPTXY]/g, (ch) => LATIN_LOOKALIKES[ch] ?? ch)
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

/** «Русский  язык» → «русский язык»; «Алгебра.» → «алгебра». */
export function subjectNameKey(name: string): string {
  return words(name);
}
