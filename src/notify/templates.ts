import { RULES } from '../checks/rules/index.js';
import type { ProgressReport } from './report.js';

/**
 * The message texts, in Russian and Kyrgyz, per channel: SMS as short as it can be (one UCS-2 segment,
 * 70 characters, for a typical mark), Telegram plain text, e-mail a subject, the text and a small HTML
 * part. **No personal data beyond what the message needs**: a pupil's first name, never a surname, a birth
 * date, a teacher's name or the parent's contact; no advertising and no links. Dates are written from the
 * ISO day itself (DD.MM), so neither the machine's zone nor its locale changes them.
 */
export type Lang = 'ru' | 'ky';
export type TemplateChannel = 'sms' | 'telegram' | 'email';

export interface MarkData { pupilFirstName: string; subject: string; date?: string; raw: string; previousRaw?: string; workCategory?: string }
export interface AbsenceData { pupilFirstName: string; subject: string; date: string; slot?: number; kind: 'ill' | 'valid' | 'unexcused' | 'late' | 'unknown' }
export interface PeriodMarkData { pupilFirstName: string; subject: string; periodTitle?: string; raw: string; final?: boolean }
export interface DigestData { date: string; children: Array<{ pupilFirstName: string; marks: Array<{ subject: string; raw: string; date: string }>; absences?: number }> }
export interface TeacherDigestData { date: string; total: number; byRule: Array<{ rule: string; title: string; count: number }>; items: Array<{ title: string; className: string; subject?: string; day?: string }> }
export interface TeacherAlertData { rule: string; title: string; className: string; subject?: string; day?: string; detail?: string }

export interface TemplateData {
  mark: MarkData;
  mark_changed: MarkData;
  low_mark: MarkData;
  absence: AbsenceData;
  period_mark: PeriodMarkData;
  marks_digest: DigestData;
  progress_report: ProgressReport;
  teacher_digest: TeacherDigestData;
  teacher_alert: TeacherAlertData;
  test: Record<string, never>;
  sign_in_code: { code: string };
}
export type Kind = keyof TemplateData;

export interface Rendered { subject?: string; text: string; html?: string }

/** Rule titles as the checks name them, for the teachers' messages. */
export const RULE_TITLES: Readonly<Record<string, string>> = Object.fromEntries(RULES.map((r) => [r.id, r.title]));

const ddmm = (day?: string) => (day && /^\d{4}-\d{2}-\d{2}/.test(day) ? `${day.slice(8, 10)}.${day.slice(5, 7)}` : '');
const ddmmyyyy = (day: string) => `${ddmm(day)}.${day.slice(0, 4)}`;
const number = (v: number, lang: Lang) => (lang === 'ru' || lang === 'ky' ? v.toFixed(2).replace('.', ',') : String(v));

const ABSENCE: Record<Lang, Record<AbsenceData['kind'], string>> = {
  ru: { ill: 'по болезни', valid: 'по уважительной причине', unexcused: 'без уважительной причины', late: 'опоздание', unknown: '' },
  ky: { ill: 'оорусу боюнча', valid: 'жүйөлүү себеп менен', unexcused: 'жүйөсүз', late: 'кечигүү', unknown: '' },
};

const SUBJECTS: Record<Lang, Partial<Record<Kind, string>>> = {
  ru: {
    mark: 'новая отметка', mark_changed: 'отметка изменена', low_mark: 'отметка', absence: 'пропуск урока', period_mark: 'отметка за период',
    marks_digest: 'отметки за день', progress_report: 'отчёт об успеваемости и посещаемости', teacher_digest: 'открытые расхождения журнала',
    teacher_alert: 'расхождение в журнале', test: 'проверка уведомлений', sign_in_code: 'код для входа',
  },
  ky: {
    mark: 'жаңы баа', mark_changed: 'баа өзгөртүлдү', low_mark: 'баа', absence: 'сабак калтырылды', period_mark: 'мезгилдик баа',
    marks_digest: 'күндүн баалары', progress_report: 'үлгүрүү жана катышуу боюнча отчёт', teacher_digest: 'журналдагы ачык дал келбестиктер',
    teacher_alert: 'журналдагы дал келбестик', test: 'билдирүүлөрдү текшерүү', sign_in_code: 'кирүү коду',
  },
};

const FOOTER: Record<Lang, string> = {
  ru: 'Это сообщение школы о вашем ребёнке; вы дали на него согласие. Чтобы отказаться, сообщите классному руководителю.',
  ky: 'Бул мектептин балаңыз тууралуу билдирүүсү; сиз ага макулдук бергенсиз. Баш тартуу үчүн класс жетекчисине кайрылыңыз.',
};

/** The text of one message: `kind` with its data, in a language, for a channel. */
export function render<K extends Kind>(kind: K, data: TemplateData[K], o: { lang: Lang; channel: TemplateChannel; schoolName: string }): Rendered {
  const lang = o.lang;
  const sms = o.channel === 'sms';
  const body = textOf(kind, data, lang, sms);
  if (o.channel !== 'email') return { text: body };
  const staff = kind === 'teacher_digest' || kind === 'teacher_alert' || kind === 'test' || kind === 'sign_in_code';
  const text = staff ? body : `${body}\n\n${FOOTER[lang]}`;
  return { subject: `${o.schoolName}: ${SUBJECTS[lang][kind] ?? kind}`, text, html: htmlOf(text) };
}

function htmlOf(text: string): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  return `<!doctype html><html><body style="font-family: sans-serif"><p>${escaped.split('\n\n').map((p) => p.split('\n').join('<br>')).join('</p><p>')}</p></body></html>`;
}

function textOf<K extends Kind>(kind: K, data: TemplateData[K], lang: Lang, sms: boolean): string {
  switch (kind) {
    case 'mark':
    case 'low_mark': {
      const d = data as MarkData;
      if (sms) return `${d.pupilFirstName}: ${d.raw} (${d.subject}), ${ddmm(d.date)}`;
      return lang === 'ky'
        ? `Жаңы баа: ${d.pupilFirstName} — ${d.raw}, «${d.subject}», ${ddmm(d.date)}.`
        : `Новая отметка: ${d.pupilFirstName} — ${d.raw}, «${d.subject}», ${ddmm(d.date)}.`;
    }
    case 'mark_changed': {
      const d = data as MarkData;
      if (sms) return lang === 'ky' ? `${d.pupilFirstName}: ${d.subject} ${ddmm(d.date)} ${d.previousRaw ?? ''}→${d.raw}` : `${d.pupilFirstName}: ${d.subject} ${ddmm(d.date)} исправлено ${d.previousRaw ?? ''}→${d.raw}`;
      return lang === 'ky'
        ? `${d.pupilFirstName}: «${d.subject}» сабагы боюнча ${ddmm(d.date)} баа өзгөртүлдү: ${d.previousRaw ?? ''} → ${d.raw}.`
        : `${d.pupilFirstName}: отметка по предмету «${d.subject}» за ${ddmm(d.date)} изменена: ${d.previousRaw ?? ''} → ${d.raw}.`;
    }
    case 'absence': {
      const d = data as AbsenceData;
      const why = ABSENCE[lang][d.kind] ?? '';
      if (sms) return lang === 'ky' ? `${d.pupilFirstName}: ${ddmm(d.date)} ${d.subject} калтырылды` : `${d.pupilFirstName}: пропуск, ${d.subject}, ${ddmm(d.date)}`;
      const slot = d.slot ? (lang === 'ky' ? `, ${d.slot}-сабак` : `, ${d.slot}-й урок`) : '';
      return lang === 'ky'
        ? `${d.pupilFirstName} ${ddmm(d.date)} «${d.subject}» сабагына катышкан жок${slot}${why ? ` (${why})` : ''}.`
        : `${d.pupilFirstName} отсутствует на уроке «${d.subject}» ${ddmm(d.date)}${slot}${why ? ` (${why})` : ''}.`;
    }
    case 'period_mark': {
      const d = data as PeriodMarkData;
      const period = d.final ? (lang === 'ky' ? 'жылдык баа' : 'итоговая за год') : (d.periodTitle ?? '');
      if (sms) return `${d.pupilFirstName}: ${d.subject}, ${period} — ${d.raw}`;
      return lang === 'ky'
        ? `${d.pupilFirstName}: «${d.subject}», ${period} — ${d.raw}.`
        : `${d.pupilFirstName}: отметка по предмету «${d.subject}», ${period} — ${d.raw}.`;
    }
    case 'marks_digest': {
      const d = data as DigestData;
      const lines = d.children.map((c) => {
        const bySubject = new Map<string, string[]>();
        for (const m of c.marks) bySubject.set(m.subject, [...(bySubject.get(m.subject) ?? []), m.raw]);
        return `${c.pupilFirstName}: ${[...bySubject].map(([s, v]) => `${s} ${v.join(' ')}`).join('; ')}`;
      });
      const head = lang === 'ky' ? `${ddmm(d.date)} күнкү баалар` : `Отметки за ${ddmm(d.date)}`;
      return sms ? `${head}. ${lines.join('. ')}` : `${head}:\n${lines.join('\n')}`;
    }
    case 'progress_report':
      return reportText(data as ProgressReport, lang, sms);
    case 'teacher_digest': {
      const d = data as TeacherDigestData;
      const head = lang === 'ky' ? `Ачык дал келбестиктер, ${ddmm(d.date)}: ${d.total}` : `Открытые расхождения на ${ddmm(d.date)}: ${d.total}`;
      if (sms) return `${head}. ${d.byRule.slice(0, 3).map((r) => `${r.title} — ${r.count}`).join('; ')}`;
      const rest = d.total - d.items.length;
      return [
        head, '', ...d.byRule.map((r) => `• ${r.title} — ${r.count}`), '',
        ...d.items.map((i) => `— ${[i.className, i.subject, ddmm(i.day)].filter(Boolean).join(', ')}: ${i.title}`),
        ...(rest > 0 ? [lang === 'ky' ? `…жана дагы ${rest}` : `…и ещё ${rest}`] : []),
      ].join('\n');
    }
    case 'teacher_alert': {
      const d = data as TeacherAlertData;
      const where = [d.className, d.subject, ddmm(d.day)].filter(Boolean).join(', ');
      return lang === 'ky' ? `Дал келбестик: ${d.title} — ${where}.` : `Расхождение: ${d.title} — ${where}.${d.detail ? ` ${d.detail}` : ''}`;
    }
    case 'test':
      return lang === 'ky' ? 'Мектептин билдирүү каналы иштейт.' : 'Канал уведомлений школы работает.';
    case 'sign_in_code': {
      const { code } = data as TemplateData['sign_in_code'];
      return lang === 'ky' ? `Кирүү коду: ${code}. Аны эч кимге айтпаңыз.` : `Код для входа: ${code}. Никому его не сообщайте.`;
    }
    default:
      return String(kind);
  }
}

function reportText(r: ProgressReport, lang: Lang, sms: boolean): string {
  const range = `${ddmm(r.from)}–${ddmm(r.to)}`;
  const a = r.absences;
  const missed = lang === 'ky'
    ? `Калтырган сабактар: ${a.total}${a.total ? ` (оорусу боюнча ${a.ill}, жүйөлүү ${a.valid}, жүйөсүз ${a.unexcused}${a.unknown ? `, себеби белгисиз ${a.unknown}` : ''})` : ''}; кечигүү: ${a.late}.`
    : `Пропущено уроков: ${a.total}${a.total ? ` (по болезни ${a.ill}, по уважительной ${a.valid}, без уважительной ${a.unexcused}${a.unknown ? `, причина не указана ${a.unknown}` : ''})` : ''}; опозданий: ${a.late}.`;
  if (sms) {
    const avg = r.subjects.filter((s) => s.average !== null).map((s) => `${s.subject} ${number(s.average!, lang)}`).join(', ');
    return `${r.pupilFirstName}, ${range}: ${avg || (lang === 'ky' ? 'баа жок' : 'отметок нет')}. ${lang === 'ky' ? 'Калтырган' : 'Пропуски'}: ${a.total}`;
  }
  const head = lang === 'ky'
    ? `Үлгүрүү жана катышуу боюнча отчёт: ${r.pupilFirstName}, ${ddmmyyyy(r.from)}–${ddmmyyyy(r.to)}`
    : `Отчёт об успеваемости и посещаемости: ${r.pupilFirstName}, ${ddmmyyyy(r.from)}–${ddmmyyyy(r.to)}`;
  const lines = r.subjects.map((s) => `${s.subject}: ${s.marks.join(' ') || '—'}${s.average !== null ? ` (${lang === 'ky' ? 'орточо' : 'средний'} ${number(s.average, lang)})` : ''}`);
  const none = r.noMarks.length > 0 ? [lang === 'ky' ? `Баа жок: ${r.noMarks.join(', ')}` : `Без отметок: ${r.noMarks.join(', ')}`] : [];
  return [head, '', ...lines, ...none, '', missed].join('\n');
}
