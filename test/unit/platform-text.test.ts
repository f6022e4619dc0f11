import { describe, expect, it } from '@jest/globals';
import { classifyKundoluk } from '../../adapters/kundoluk/client.js';
import { classifyNetSchool } from '../../adapters/netschool/client.js';
import { classifyDnevnik } from '../../adapters/dnevnikru/client.js';
import type { HttpResponse } from '../../src/ports/adapter.js';
import { platformText } from '../../src/ports/platform-text.js';

/**
 * A platform's free text in an error answer can name a pupil; an adapter error's message is logged,
 * stored on the run and raised as an alert. Every adapter passes such text through platformText.
 */
const NAME = 'Ученик Иванов Иван Петрович не найден';
const response = (status: number, data: unknown, url = 'https://platform.example/api/x'): HttpResponse => ({ status, data, headers: {}, url }) as HttpResponse;

describe('platform error texts', () => {
  it('keeps codes and known sentences, withholds the rest by its length', () => {
    expect(platformText('apiResourceUnavailable')).toBe('apiResourceUnavailable');
    expect(platformText('Неверный логин или пароль.', new Set(['Неверный логин или пароль']))).toBe('Неверный логин или пароль.');
    expect(platformText(NAME)).toBe(`[platform text withheld, ${[...NAME].length} chars]`);
  });

  it.each([
    ['NetSchool 409', () => classifyNetSchool(response(409, { message: NAME }))],
    ['NetSchool 500', () => classifyNetSchool(response(500, { message: NAME }))],
    ['Kundoluk 400', () => classifyKundoluk(response(400, [{ errorMessage: NAME }]))],
    ['Kundoluk failed envelope', () => classifyKundoluk(response(200, { resultCode: 7, resultMessage: NAME, actionResult: null }))],
    ['Kundoluk HTML page', () => classifyKundoluk(response(502, `<html><title>${NAME}</title></html>`))],
    ['Дневник.ру error body', () => classifyDnevnik(response(400, { type: 'parameterInvalid', description: NAME }))],
  ])('%s: the name never reaches the message', (_name, classify) => {
    const error = classify();
    expect(error).toBeDefined();
    expect(error!.message).not.toContain('Иванов');
    expect(error!.message).toContain('withheld');
  });

  it('the texts the platforms are known to answer stay readable', () => {
    expect(classifyNetSchool(response(409, { message: 'Неправильный пароль или имя пользователя' }))!.message).toContain('Неправильный пароль или имя пользователя');
    expect(classifyKundoluk(response(400, [{ errorMessage: 'Неверный формат запроса' }]))!.message).toContain('Неверный формат запроса');
  });
});
