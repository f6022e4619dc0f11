import { common } from './common.js';
import { deputy } from './deputy.js';
import { it } from './it.js';
import { parent } from './parent.js';
import { teacher } from './teacher.js';
import { LOCALES, type Locale, type Message } from './define.js';

/**
 * The dashboard's one message catalogue: every text a page shows, in Russian and Kyrgyz, assembled from
 * one part per area (common, it, teacher, deputy, parent). A page never writes a user-facing text inline.
 */
const ru = { ...common.ru, ...it.ru, ...teacher.ru, ...deputy.ru, ...parent.ru };
export type MessageKey = keyof typeof ru;
const ky: Record<MessageKey, Message> = { ...common.ky, ...it.ky, ...teacher.ky, ...deputy.ky, ...parent.ky };
const CATALOGUE: Record<Locale, Record<MessageKey, Message>> = { ru, ky };

export { LOCALES, type Locale };
export type Params = Record<string, string | number>;
export type Translate = (key: MessageKey, params?: Params) => string;

export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(ru, key);
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** The translator of a locale: placeholders filled, plural forms by the locale's rules. */
export function translator(locale: Locale): Translate {
  const plural = new Intl.PluralRules(locale === 'ru' ? 'ru-RU' : 'ky-KG');
  const messages = CATALOGUE[locale];
  return (key, params) => {
    const message = messages[key];
    let text: string;
    if (typeof message === 'string') text = message;
    else {
      const count = Number(params?.count ?? 0);
      const form = plural.select(count) as 'one' | 'few' | 'many' | 'other';
      text = message[form] ?? message.other;
    }
    return params ? text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole)) : text;
  };
}

/** Every key of the catalogue (the tests check each locale has a non-empty text for each). */
export function catalogueKeys(): MessageKey[] {
  return Object.keys(ru) as MessageKey[];
}

export function messageOf(locale: Locale, key: MessageKey): Message {
  return CATALOGUE[locale][key];
}
