/**
 * SMS length in parts, and fitting a text into a number of parts.
 *
 * Our own small counter rather than sms-segments-calculator: that package (Twilio's) also does "smart
 * encoding" and counts the way Twilio's own gateway does; the Russian and Kyrgyz gateways we use (SMS.ru,
 * SMSC, Nikita) bill by the plain GSM 03.38 rules below, which is what these functions count (channels.md
 * "Segments"):
 * - GSM-7 when every character is in the GSM 03.38 default alphabet or its extension table: 160 units in one
 *   SMS, 153 per part of a long one; the extension characters (`^{}[]~\|€` and form feed) take 2 units
 *   (escape + character);
 * - otherwise UCS-2 (any Cyrillic letter, any emoji): 70 UTF-16 code units in one SMS, 67 per part, so a
 *   character outside the BMP (an emoji) takes 2.
 * A long message is packed part by part the way handsets and gateways do it: an escape pair or a surrogate
 * pair is never split across two parts, so a 2-unit character at a part's end moves to the next part.
 */

/** How a text goes over the air, and how many SMS it takes. */
export interface SmsCount {
  encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) of the whole text. */
  units: number;
  /** SMS parts the text takes (0 for an empty text). */
  parts: number;
  /** Units per part at this length: 160/70 for a single SMS, 153/67 for a long one. */
  perPart: number;
}

/** The result of `fitSms`: the text as it will be sent. */
export interface FittedSms {
  text: string;
  parts: number;
  /** The text was cut (and ends with an ellipsis). */
  truncated: boolean;
}

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '^{}\\[~]|€\f';
const GSM_BASIC_SET = new Set(GSM_BASIC);
const GSM_EXTENSION_SET = new Set(GSM_EXTENSION);

const LIMITS = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
} as const;

/** Units of one character (a code point) in the given encoding. */
function unitsOf(char: string, encoding: SmsCount['encoding']): number {
  if (encoding === 'UCS-2') return char.length;
  return GSM_EXTENSION_SET.has(char) ? 2 : 1;
}

function isGsmChar(char: string): boolean {
  return GSM_BASIC_SET.has(char) || GSM_EXTENSION_SET.has(char);
}

/** Parts needed for these per-character units, never splitting a character across parts. */
function packParts(units: number[], perPart: number): number {
  let parts = 1;
  let used = 0;
  for (const unit of units) {
    if (used + unit > perPart) {
      parts += 1;
      used = 0;
    }
    used += unit;
  }
  return parts;
}

/** Encoding, units and SMS parts of a text, by the GSM 03.38 rules above. */
export function countSms(text: string): SmsCount {
  const chars = Array.from(text);
  const encoding: SmsCount['encoding'] = chars.every(isGsmChar) ? 'GSM-7' : 'UCS-2';
  const perChar = chars.map((char) => unitsOf(char, encoding));
  const units = perChar.reduce((sum, unit) => sum + unit, 0);
  const limits = LIMITS[encoding];
  if (units <= limits.single) return { encoding, units, parts: units === 0 ? 0 : 1, perPart: limits.single };
  return { encoding, units, parts: packParts(perChar, limits.multi), perPart: limits.multi };
}

/**
 * The text cut so that it takes at most `maxParts` SMS: at the last word boundary that fits, followed by an
 * ellipsis. The ellipsis is '…' in a UCS-2 text; in a GSM-7 text it is '...', because '…' is not in the GSM
 * alphabet and would turn the whole message into UCS-2 (160 → 70 characters per SMS). A text with no word
 * boundary in reach is cut mid-word; a character is never split.
 */
export function fitSms(text: string, maxParts: number): FittedSms {
  if (!Number.isInteger(maxParts) || maxParts < 1) throw new RangeError(`fitSms: maxParts must be a positive integer, got ${maxParts}`);
  const whole = countSms(text);
  if (whole.parts <= maxParts) return { text, parts: whole.parts, truncated: false };
  const ellipsis = whole.encoding === 'GSM-7' ? '...' : '…';
  const chars = Array.from(text);
  const fits = (length: number) => countSms(withEllipsis(chars, length, ellipsis)).parts <= maxParts;
  // The count only grows with the prefix, so the longest fitting prefix is found by bisection.
  let low = 0;
  let high = chars.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  const cut = wordBoundaryAtOrBefore(chars, low);
  const fitted = withEllipsis(chars, cut, ellipsis);
  return { text: fitted, parts: countSms(fitted).parts, truncated: true };
}

function withEllipsis(chars: string[], length: number, ellipsis: string): string {
  return chars.slice(0, length).join('').trimEnd() + ellipsis;
}

/** The prefix length ending at a word boundary (before a space), or `length` itself when there is none. */
function wordBoundaryAtOrBefore(chars: string[], length: number): number {
  if (length < chars.length && /\s/u.test(chars[length] ?? '')) return length;
  for (let i = length - 1; i > 0; i -= 1) {
    if (/\s/u.test(chars[i] ?? '')) return i;
  }
  return length;
}
