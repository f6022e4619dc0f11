import { z } from 'zod';
import { ValidationError } from '../../../../lib/errors.js';
import type { AnyAdapter } from '../../../../ports/adapter.js';
import type { PageContext } from '../../context.js';
import { html, type Html } from '../../html.js';
import { isMessageKey } from '../../messages/index.js';

/**
 * An adapter's own form, generated from its config schema (zod → JSON Schema): a text, URL, number,
 * check box or choice per plain setting; JSON for nested settings (lists of accounts, terms); secrets
 * write-only (password fields, never filled in; on an edit, blank keeps the stored value).
 */
export interface ConfigField {
  key: string;
  kind: 'text' | 'url' | 'number' | 'integer' | 'boolean' | 'choice' | 'json';
  required: boolean;
  secret: boolean;
  options?: string[];
  default?: unknown;
  min?: number;
  max?: number;
}

interface JsonSchema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

export function fieldsOf(adapter: AnyAdapter): ConfigField[] {
  const schema = z.toJSONSchema(adapter.configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([key, p]) => {
    const secret = adapter.secretKeys.includes(key);
    const base = { key, required: required.has(key), secret, default: p.default, min: p.minimum, max: p.maximum };
    if (p.enum) return { ...base, kind: 'choice', options: p.enum.map(String) };
    if (p.type === 'boolean') return { ...base, kind: 'boolean' };
    if (p.type === 'integer') return { ...base, kind: 'integer' };
    if (p.type === 'number') return { ...base, kind: 'number' };
    if (p.type === 'string') return { ...base, kind: p.format === 'uri' ? 'url' : 'text' };
    return { ...base, kind: 'json' };
  });
}

/** The inputs of the configuration: `values` are the stored plain settings (never secrets); `secretsSet` the secret keys that are set. */
export function configInputs(ctx: PageContext, adapter: AnyAdapter, values: Record<string, unknown>, secretsSet: string[], editing: boolean): Html {
  const { t } = ctx;
  const instances = adapter.instances ?? [];
  const instance = instances.length > 0 && !editing ? html`<label>${t('it.form.instance')}
      <select name="instance"><option value="">${t('it.form.instanceNone')}</option>
      ${instances.map((i) => html`<option value="${i.name}"${values.instance === i.name ? html` selected` : ''}>${i.title}</option>`)}</select>
      <small class="muted">${t('it.form.instanceHint')}</small></label>` : '';
  return html`<fieldset class="it-config"><legend>${t('it.form.settings', { platform: adapter.title })}</legend>
    ${instance}
    ${fieldsOf(adapter).map((f) => field(ctx, f, values[f.key], secretsSet.includes(f.key), editing))}
  </fieldset>`;
}

/** A setting's name for people, from the catalogue (`it.field.<key>`); the key itself for one it does not name. */
function fieldLabel(ctx: PageContext, key: string): string {
  const k = `it.field.${key}`;
  return isMessageKey(k) ? ctx.t(k) : key;
}

function field(ctx: PageContext, f: ConfigField, value: unknown, isSet: boolean, editing: boolean): Html {
  const { t } = ctx;
  const name = `config.${f.key}`;
  const id = `cfg-${f.key}`;
  const required = f.required && !(f.secret && editing && isSet) && f.default === undefined;
  const label = html`<span>${fieldLabel(ctx, f.key)} <code class="muted">${f.key}</code>${required ? html` <small class="muted">(${t('form.required')})</small>` : ''}</span>`;
  const hint = f.secret
    ? html`<small class="muted">${editing && isSet ? t('form.secretKept') : t('it.form.secretHint')}</small>`
    : f.default !== undefined && f.kind !== 'json' ? html`<small class="muted">${t('it.form.default', { value: String(f.default) })}</small>` : '';
  if (f.secret) {
    // Write-only: never filled in, whatever is stored.
    if (f.kind === 'json') return html`<label for="${id}">${label}<textarea id="${id}" name="${name}" rows="4" autocomplete="off" spellcheck="false" data-secret></textarea>${hint}<small class="muted">${t('it.form.json')}</small></label>`;
    return html`<label for="${id}">${label}<input id="${id}" type="password" name="${name}" autocomplete="new-password" data-secret${required ? html` required` : ''}>${hint}</label>`;
  }
  switch (f.kind) {
    case 'boolean': {
      const checked = value === undefined ? f.default === true : value === true;
      return html`<input type="hidden" name="${name}" value="false"><label class="check" for="${id}"><input id="${id}" type="checkbox" name="${name}" value="true"${checked ? html` checked` : ''}>${fieldLabel(ctx, f.key)} <code class="muted">${f.key}</code></label>`;
    }
    case 'choice':
      return html`<label for="${id}">${label}<select id="${id}" name="${name}">
        ${f.default === undefined ? html`<option value="">—</option>` : ''}
        ${(f.options ?? []).map((o) => html`<option value="${o}"${(value ?? f.default) === o ? html` selected` : ''}>${o}</option>`)}</select></label>`;
    case 'number':
    case 'integer':
      return html`<label for="${id}">${label}<input id="${id}" type="number" name="${name}" value="${value === undefined ? '' : String(value)}"
        ${f.kind === 'integer' ? html`step="1"` : html`step="any"`}${f.min !== undefined ? html` min="${f.min}"` : ''}${f.max !== undefined ? html` max="${f.max}"` : ''}${required ? html` required` : ''}>${hint}</label>`;
    case 'json':
      return html`<label for="${id}">${label}<textarea id="${id}" name="${name}" rows="4" spellcheck="false">${value === undefined ? '' : JSON.stringify(value, null, 2)}</textarea>
        <small class="muted">${t('it.form.json')}</small></label>`;
    default:
      return html`<label for="${id}">${label}<input id="${id}" type="${f.kind === 'url' ? 'url' : 'text'}" name="${name}" value="${value === undefined ? '' : String(value)}"${required ? html` required` : ''} autocomplete="off">${hint}</label>`;
  }
}

/**
 * The configuration a form posted: blank fields left out (a blank secret keeps the stored one), numbers
 * and check boxes typed, JSON parsed. With `stored`, only what differs from it (an edit's patch).
 */
export function configFromForm(adapter: AnyAdapter, body: Record<string, unknown>, stored?: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!stored && typeof body.instance === 'string' && body.instance !== '') out.instance = body.instance;
  for (const f of fieldsOf(adapter)) {
    let raw = body[`config.${f.key}`];
    // A check box posts its hidden "false" and, when ticked, "true" after it.
    if (Array.isArray(raw)) raw = raw[raw.length - 1];
    if (typeof raw !== 'string') continue;
    const text = f.kind === 'json' || f.secret ? raw : raw.trim();
    if (text.trim() === '') continue;
    let value: unknown;
    if (f.kind === 'boolean') value = text === 'true';
    else if (f.kind === 'number' || f.kind === 'integer') {
      value = Number(text);
      if (!Number.isFinite(value)) throw new ValidationError(`config.${f.key}: not a number`);
    } else if (f.kind === 'json') {
      try {
        value = JSON.parse(text);
      } catch {
        throw new ValidationError(`config.${f.key}: not valid JSON`);
      }
    } else value = text;
    if (stored && !f.secret && JSON.stringify(stored[f.key]) === JSON.stringify(value)) continue;
    if (stored && !f.secret && f.kind === 'boolean' && stored[f.key] === undefined && value === f.default) continue;
    out[f.key] = value;
  }
  return out;
}
