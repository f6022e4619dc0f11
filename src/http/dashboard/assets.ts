import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Request, Response } from 'express';

const require = createRequire(import.meta.url);
const own = (name: string) => fileURLToPath(new URL(`./assets/${name}`, import.meta.url));

/**
 * The dashboard's static files: our stylesheet and script, htmx and uPlot from their npm packages (no
 * build step), each served from memory with a content hash in its address, cached for a year.
 */
const FILES: Record<string, { path: () => string; type: string }> = {
  'app.css': { path: () => own('app.css'), type: 'text/css; charset=utf-8' },
  'app.js': { path: () => own('app.js'), type: 'text/javascript; charset=utf-8' },
  'charts.js': { path: () => own('charts.js'), type: 'text/javascript; charset=utf-8' },
  'favicon.svg': { path: () => own('favicon.svg'), type: 'image/svg+xml' },
  'htmx.min.js': { path: () => require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.min.js': { path: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.min.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

interface Loaded { body: Buffer; type: string; hash: string }
const loaded = new Map<string, Loaded>();

function load(name: string): Loaded | undefined {
  const known = loaded.get(name);
  if (known) return known;
  const file = FILES[name];
  if (!file) return undefined;
  const body = readFileSync(file.path());
  const entry = { body, type: file.type, hash: createHash('sha256').update(body).digest('hex').slice(0, 10) };
  loaded.set(name, entry);
  return entry;
}

/** The address of an asset, with its content hash (a new file, a new address). */
export function assetUrl(name: string): string {
  const file = load(name);
  if (!file) throw new Error(`no dashboard asset ${name}`);
  return `/assets/${name}?v=${file.hash}`;
}

export function serveAsset(req: Request, res: Response): void {
  const file = load(req.params.name as string);
  if (!file) {
    res.status(404).type('text/plain').send('not found');
    return;
  }
  res.setHeader('content-type', file.type);
  res.setHeader('cache-control', req.query.v === file.hash ? 'public, max-age=31536000, immutable' : 'no-cache');
  res.setHeader('etag', `"${file.hash}"`);
  if (req.headers['if-none-match'] === `"${file.hash}"`) {
    res.status(304).end();
    return;
  }
  res.send(file.body);
}
