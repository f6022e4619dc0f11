import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import jsqrModule from 'jsqr';
import { PNG } from 'pngjs';

const run = promisify(execFile);

/** jsqr is CommonJS whose types declare an ES default export: the function is the module itself or its `default`, depending on the loader. */
type Decode = typeof jsqrModule.default;
const jsQR: Decode = (jsqrModule as unknown as { default?: Decode }).default ?? (jsqrModule as unknown as Decode);

/** A PDF's pages as text (poppler's `pdftotext -layout`), split on form feeds. */
export async function pdfPages(pdf: Buffer): Promise<string[]> {
  return withFile(pdf, async (file) => {
    const { stdout } = await run('pdftotext', ['-layout', file, '-']);
    return stdout.split('\f').slice(0, -1);
  });
}

export interface Word { page: number; text: string; x: number; y: number; xMax: number }

/** Every word with its box (`pdftotext -bbox`): which column and row a cell's text is in. */
export async function pdfWords(pdf: Buffer): Promise<Word[]> {
  return withFile(pdf, async (file) => {
    const { stdout } = await run('pdftotext', ['-bbox', file, '-'], { maxBuffer: 64 << 20 });
    const words: Word[] = [];
    let page = 0;
    for (const line of stdout.split('\n')) {
      if (line.includes('<page ')) page++;
      const m = /<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">(.*)<\/word>/.exec(line);
      if (m) words.push({ page, x: Number(m[1]), y: Number(m[2]), xMax: Number(m[3]), text: unescape(m[4]!) });
    }
    return words;
  });
}

/**
 * The QR codes of each page (`pdftoppm -png` at 150 dpi, decoded with jsQR): one text per page, null where
 * none is found; `pages` (first, last) reads only those.
 */
export async function pdfQrCodes(pdf: Buffer, pages?: [number, number]): Promise<Array<string | null>> {
  return withFile(pdf, async (file, dir) => {
    await run('pdftoppm', ['-png', '-r', '150', ...(pages ? ['-f', String(pages[0]), '-l', String(pages[1])] : []), file, path.join(dir, 'p')]);
    const pngs = (await readdir(dir)).filter((f) => f.endsWith('.png')).sort();
    const out: Array<string | null> = [];
    for (const name of pngs) {
      const png = PNG.sync.read(await readFile(path.join(dir, name)));
      out.push(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null);
    }
    return out;
  });
}

function unescape(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

async function withFile<T>(pdf: Buffer, work: (file: string, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jb-pdf-'));
  try {
    const file = path.join(dir, 'doc.pdf');
    await writeFile(file, pdf);
    return await work(file, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
