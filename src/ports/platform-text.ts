/**
 * Free text a platform puts in its error answers («Ученик Иванов Иван не найден») can name pupils and
 * parents; an adapter error's message is logged, stored on the run and raised as an alert. So an
 * adapter never puts such text into a message as it came: it passes it through `platformText`, which
 * keeps what is useful and cannot name anyone — an error code (one identifier: `authorizationFailed`,
 * `E_1021`), or a sentence of the adapter's known vocabulary (the fixed texts the platform is known to
 * answer, README.md of each adapter) — and replaces anything else by its length, so a reader still sees
 * that the platform said something, and how much. The HTTP status, endpoint and field stay in the
 * message beside it, written by the adapter.
 */
const CODE = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

export function platformText(text: unknown, known: ReadonlySet<string> = new Set()): string {
  const value = String(text ?? '').replace(/\s+/g, ' ').trim();
  if (value === '') return '';
  if (CODE.test(value) || known.has(value) || known.has(value.replace(/[.!]+$/, ''))) return value;
  return `[platform text withheld, ${[...value].length} chars]`;
}
