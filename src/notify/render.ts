import { fitSms } from './segments.js';
import { render } from './templates.js';
import type { Channel } from './policy.js';

/**
 * A row's text for its channel: the template in the recipient's language (the subject's Kyrgyz name where
 * the school has one), an SMS cut to the school's cap on parts.
 */
export function renderMessage(
  kind: string, data: Record<string, unknown>, options: { lang: 'ru' | 'ky'; channel: Channel; schoolName: string; maxSmsParts: number },
): { subject?: string; text: string; html?: string; parts: number } {
  const localized = options.lang === 'ky' && typeof data.subjectKy === 'string' ? { ...data, subject: data.subjectKy } : data;
  const out = render(kind as Parameters<typeof render>[0], localized as never, { lang: options.lang, channel: options.channel, schoolName: options.schoolName });
  if (options.channel !== 'sms') return { ...out, parts: 1 };
  const fitted = fitSms(out.text, options.maxSmsParts);
  return { text: fitted.text, parts: fitted.parts };
}
