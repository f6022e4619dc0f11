/**
 * A number-preserving JSON parse for the answers whose ids above 2^53 have no `*_str` twin (Mark
 * `workType`, Work `files[]`, homework `subjectId` …): integer literals of 16 digits or more are turned
 * into strings before `JSON.parse`, so they arrive exact instead of rounded. Node 20's `JSON.parse` has no
 * access to the source text of a number, hence this small scanner; it walks the text once, skips string
 * literals, and copies nothing when there is no long integer at all.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
/** 2^53 has 16 digits: every integer with fewer is exact as a JSON number. */
const LONG_DIGITS = 16;

const isDigit = (code: number) => code >= ZERO && code <= NINE;
/** Digits, `.`, `e`, `E`, `+`, `-`: what follows the integer part of a JSON number. */
const isNumberPart = (code: number) => isDigit(code) || code === 0x2e || code === 0x65 || code === 0x45 || code === 0x2b || code === MINUS;

/** Where the string literal starting at `start` (its opening quote) ends: the index after its closing quote. */
function skipString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === BACKSLASH) i += 2;
    else if (code === QUOTE) return i + 1;
    else i += 1;
  }
  return i;
}

/** The index after the number literal starting at `start`, and whether it is a plain integer. */
function scanNumber(text: string, start: number): { end: number; integer: boolean } {
  let i = start;
  if (text.charCodeAt(i) === MINUS) i += 1;
  while (i < text.length && isDigit(text.charCodeAt(i))) i += 1;
  const integerEnd = i;
  while (i < text.length && isNumberPart(text.charCodeAt(i))) i += 1;
  return { end: i, integer: i === integerEnd };
}

/** The JSON text with every integer literal of 16 or more digits written as a string literal. */
export function quoteLongIntegers(text: string): string {
  const parts: string[] = [];
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      i = skipString(text, i);
    } else if (isDigit(code) || code === MINUS) {
      const { end, integer } = scanNumber(text, i);
      const digits = end - i - (code === MINUS ? 1 : 0);
      if (integer && digits >= LONG_DIGITS) {
        parts.push(text.slice(copied, i), '"', text.slice(i, end), '"');
        copied = end;
      }
      i = end;
    } else {
      i += 1;
    }
  }
  if (copied === 0) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}

const keyPatterns = new Map<string, RegExp>();

/**
 * The JSON text with the long integer values of the named keys written as strings: one regular
 * expression instead of the scanner, for large answers whose twin-less ids sit under known keys (Mark
 * `workType`). Safe on valid JSON: an unescaped `"key":` can only be a key, never part of a string.
 */
export function quoteLongValuesOf(text: string, keys: readonly string[]): string {
  const name = keys.join('|');
  let pattern = keyPatterns.get(name);
  if (!pattern) keyPatterns.set(name, (pattern = new RegExp(`("(?:${name})"\\s*:\\s*)(-?\\d{${LONG_DIGITS},})(?=\\s*[,}\\]])`, 'g')));
  return text.replace(pattern, '$1"$2"');
}

/**
 * JSON.parse with long integers kept exact, as strings: all of them, or (`keys`) those of the named
 * keys only; throws SyntaxError on text that is not JSON.
 */
export function parseLossless(text: string, keys?: readonly string[]): unknown {
  return JSON.parse(keys ? quoteLongValuesOf(text, keys) : quoteLongIntegers(text));
}
