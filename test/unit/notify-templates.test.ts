import { describe, expect, it } from '@jest/globals';
import { countSms, fitSms } from '../../src/notify/segments.js';
import { render, RULE_TITLES, type Kind, type TemplateData } from '../../src/notify/templates.js';
import type { ProgressReport } from '../../src/notify/report.js';

const report: ProgressReport = {
  pupilId: 'p', pupilFirstName: 'Иван', className: '5А', from: '2025-09-15', to: '2025-09-28',
  subjects: [{ subjectId: 's1', subject: 'Алгебра', marks: ['5', '4-', 'н/а'], count: 3, average: 4.5 }, { subjectId: 's2', subject: 'Физика', marks: ['зч'], count: 1, average: null }],
  absences: { ill: 2, valid: 0, unexcused: 1, unknown: 0, late: 1, total: 3 }, noMarks: ['История'],
};
const samples: { [K in Kind]: TemplateData[K] } = {
  mark: { pupilFirstName: 'Иван', subject: 'Алгебра', date: '2025-09-15', raw: '5' },
  mark_changed: { pupilFirstName: 'Иван', subject: 'Алгебра', date: '2025-09-15', raw: '5', previousRaw: '4' },
  low_mark: { pupilFirstName: 'Иван', subject: 'Алгебра', date: '2025-09-15', raw: '2' },
  absence: { pupilFirstName: 'Иван', subject: 'Алгебра', date: '2025-09-15', slot: 2, kind: 'ill' },
  period_mark: { pupilFirstName: 'Иван', subject: 'Алгебра', periodTitle: '1 четверть', raw: '5', final: false },
  marks_digest: { date: '2025-09-15', children: [{ pupilFirstName: 'Иван', marks: [{ subject: 'Алгебра', raw: '5', date: '2025-09-15' }, { subject: 'Алгебра', raw: '4', date: '2025-09-15' }] }, { pupilFirstName: 'Анна', marks: [{ subject: 'Физика', raw: '3', date: '2025-09-15' }] }] },
  progress_report: report,
  teacher_digest: { date: '2025-09-15', total: 12, byRule: [{ rule: 'topic_missing', title: 'Тема не записана', count: 11 }, { rule: 'mark_backdated', title: 'Задним числом', count: 1 }], items: [{ title: 'Тема не записана', className: '5А', subject: 'Алгебра', day: '2025-09-12' }] },
  teacher_alert: { rule: 'mark_backdated', title: 'Отметка выставлена задним числом', className: '5А', subject: 'Алгебра', day: '2025-09-12' },
  test: {},
  sign_in_code: { code: '482913' },
};

describe('message templates', () => {
  for (const lang of ['ru', 'ky'] as const) {
    for (const channel of ['sms', 'telegram', 'email'] as const) {
      it(`${lang} / ${channel}: every kind renders, with no surname and nothing but the message's data`, () => {
        for (const kind of Object.keys(samples) as Kind[]) {
          // A surname and a phone beside the data the template needs never reach the text.
          const data = { ...samples[kind], pupilLastName: 'Иванов', lastName: 'Иванов', phone: '+79991234567' } as never;
          const out = render(kind, data, { lang, channel, schoolName: 'Школа № 1' });
          expect(out.text.length).toBeGreaterThan(5);
          expect(out.text).not.toContain('Иванов');
          expect(out.text).not.toContain('+7999');
          expect(out.text).not.toMatch(/https?:/);
          if (channel === 'email') {
            expect(out.subject).toMatch(/^Школа № 1: /);
            expect(out.html).toContain('<p>');
          } else {
            expect(out.subject).toBeUndefined();
          }
        }
      });
    }
  }
  it('a typical mark, change and absence fit one Cyrillic SMS (70 characters)', () => {
    for (const lang of ['ru', 'ky'] as const) {
      for (const kind of ['mark', 'low_mark', 'mark_changed', 'absence', 'period_mark'] as const) {
        const text = render(kind, { ...samples[kind], subject: 'Русский язык', pupilFirstName: 'Александра' } as never, { lang, channel: 'sms', schoolName: 'x' }).text;
        expect({ kind, lang, parts: countSms(text).parts }).toEqual({ kind, lang, parts: 1 });
      }
    }
    expect(render('mark', samples.mark, { lang: 'ru', channel: 'sms', schoolName: 'x' }).text).toBe('Иван: 5 (Алгебра), 15.09');
  });
  it('writes the report: marks and averages by subject, subjects without marks, absences by kind', () => {
    const text = render('progress_report', report, { lang: 'ru', channel: 'telegram', schoolName: 'x' }).text;
    expect(text).toBe([
      'Отчёт об успеваемости и посещаемости: Иван, 15.09.2025–28.09.2025', '',
      'Алгебра: 5 4- н/а (средний 4,50)', 'Физика: зч', 'Без отметок: История', '',
      'Пропущено уроков: 3 (по болезни 2, по уважительной 0, без уважительной 1); опозданий: 1.',
    ].join('\n'));
    expect(render('progress_report', report, { lang: 'ky', channel: 'telegram', schoolName: 'x' }).text).toContain('орточо 4,50');
    expect(fitSms(render('progress_report', report, { lang: 'ru', channel: 'sms', schoolName: 'x' }).text, 2).parts).toBeLessThanOrEqual(2);
  });
  it('escapes HTML in e-mail', () => {
    const out = render('mark', { ...samples.mark, subject: '<script>alert(1)</script> & «Алгебра»' }, { lang: 'ru', channel: 'email', schoolName: 'x' });
    expect(out.html).not.toContain('<script>');
    expect(out.html).toContain('&lt;script&gt;');
    expect(out.html).toContain('&amp;');
  });
  it('names the rules as the checks do', () => {
    expect(RULE_TITLES.mark_backdated).toBe('Отметка выставлена задним числом');
  });
});
