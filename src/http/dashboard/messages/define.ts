/** One message: a text with `{name}` placeholders, or plural forms chosen by `{count}` (Intl.PluralRules). */
export type Message = string | { one: string; few?: string; many?: string; other: string };

export const LOCALES = ['ru', 'ky'] as const;
export type Locale = (typeof LOCALES)[number];

/**
 * One area's part of the catalogue: the Russian texts, and the Kyrgyz ones with exactly the same keys
 * (the type refuses a missing or an extra key). Keys are `<area>.<page>.<what>`.
 */
export function area<const R extends Record<string, Message>>(ru: R, ky: { [K in keyof R]: Message }): { ru: R; ky: { [K in keyof R]: Message } } {
  return { ru, ky };
}
