import { describe, expect, it } from '@jest/globals';
import { catalogueKeys, messageOf, translator } from '../../src/http/dashboard/messages/index.js';
import { escapeHtml, html, jsonData, raw } from '../../src/http/dashboard/html.js';
import { formatFor } from '../../src/http/dashboard/format.js';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const texts = (m: ReturnType<typeof messageOf>) => (typeof m === 'string' ? [m] : Object.values(m).filter((x): x is string => typeof x === 'string'));

describe('the dashboard’s message catalogue', () => {
  it('has a non-empty Russian and Kyrgyz text for every key, with the same placeholders', () => {
    const problems: string[] = [];
    for (const key of catalogueKeys()) {
      const ru = texts(messageOf('ru', key));
      const ky = texts(messageOf('ky', key));
      if (ru.some((t) => t.trim() === '') || ky.some((t) => t.trim() === '')) problems.push(`${key}: empty`);
      const want = placeholders(ru.join(' '));
      const got = placeholders(ky.join(' '));
      if ([...new Set(want)].join() !== [...new Set(got)].join()) problems.push(`${key}: ru {${[...new Set(want)]}} ky {${[...new Set(got)]}}`);
    }
    expect(problems).toEqual([]);
  });

  it('fills placeholders and picks Russian plural forms by count', () => {
    const t = translator('ru');
    expect(t('app.signedInAs', { login: 'deputy' })).toBe('Вы вошли как deputy');
    expect(t('list.shown', { count: 1 })).toBe('Показана 1 запись');
    expect(t('list.shown', { count: 3 })).toBe('Показаны 3 записи');
    expect(t('list.shown', { count: 11 })).toBe('Показано 11 записей');
    expect(translator('ky')('app.signOut')).toBe('Чыгуу');
  });
});

describe('the dashboard’s HTML templates', () => {
  it('escape every value but our own markup', () => {
    const name = '<script>alert("x")</script>';
    expect(html`<p title="${name}">${name}</p>`.value).toBe('<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>');
    expect(html`<ul>${['a', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.value).toBe('<ul><li>a</li><li>b</li></ul>');
    expect(html`${raw('<b>ok</b>')}${null}${false}${undefined}${0}`.value).toBe('<b>ok</b>0');
    expect(escapeHtml("'`&")).toBe('&#39;&#96;&amp;');
    expect(jsonData({ s: '</script><b>' }).value).not.toContain('</script>');
  });
});

describe('the dashboard’s dates', () => {
  it('shows instants in the school’s time zone and calendar dates as they are', () => {
    const moscow = formatFor('ru', 'Europe/Moscow');
    expect(moscow.dateTime(new Date('2025-10-31T21:30:00Z'))).toBe('01.11.2025, 00:30');
    expect(moscow.date('2025-10-31')).toBe('31.10.2025');
    expect(formatFor('ru', 'Asia/Bishkek').time(new Date('2025-10-31T21:30:00Z'))).toBe('03:30');
    expect(moscow.today(new Date('2025-10-31T21:30:00Z'))).toBe('2025-11-01');
    expect(moscow.percent(0.256)).toBe('26\u00a0%');
  });
});
