import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import pdfmake from 'pdfmake';
import type { Content, ContentSection, TDocumentDefinitions } from 'pdfmake/interfaces.js';
import type { PageSeal } from './types.js';

/**
 * The PDF base of every printed document: pdfmake 0.3 (its server build is a singleton with an
 * in-memory file system), the Roboto it ships (Cyrillic with the Kyrgyz Ң Ө Ү), no URL and no local
 * file a document could name: the fonts are put into pdfmake's virtual file system from here, and both
 * access policies refuse everything else — a document definition never reads the disk or the network.
 */

type VirtualFs = { writeFileSync(name: string, content: Buffer): void };
const FONT_FILES = {
  normal: 'Roboto-Regular.ttf',
  bold: 'Roboto-Medium.ttf',
  italics: 'Roboto-Italic.ttf',
  bolditalics: 'Roboto-MediumItalic.ttf',
} as const;

let configured = false;
function configure(): void {
  if (configured) return;
  const fontsDir = path.join(path.dirname(createRequire(import.meta.url).resolve('pdfmake/package.json')), 'fonts', 'Roboto');
  const vfs = (pdfmake as unknown as { virtualfs: VirtualFs }).virtualfs;
  for (const file of Object.values(FONT_FILES)) vfs.writeFileSync(file, readFileSync(path.join(fontsDir, file)));
  pdfmake.setFonts({ Roboto: { ...FONT_FILES } });
  pdfmake.setUrlAccessPolicy(() => false);
  pdfmake.setLocalAccessPolicy(() => false);
  configured = true;
}

/** A4 landscape and its margins (points); the bottom one holds the seal. */
export const A4_LANDSCAPE = { width: 841.89, height: 595.28 };
export const MARGINS: [number, number, number, number] = [28, 24, 28, 72];
export const CONTENT_WIDTH = A4_LANDSCAPE.width - MARGINS[0] - MARGINS[2];

export interface PdfOptions {
  title: string;
  /** The document's own date (ISO): the PDF's creation date, so the same document gives the same metadata. */
  date: string;
  orientation?: 'landscape' | 'portrait';
  /** When the document has no sections of its own: the page numbers in the footer. */
  pageNumbers?: boolean;
}

/** Renders a document definition to bytes with the fixed fonts and policies. */
export async function renderPdf(content: Content, options: PdfOptions): Promise<Buffer> {
  configure();
  const date = new Date(options.date);
  const definition: TDocumentDefinitions = {
    info: { title: options.title, creator: 'Journal Bridge', producer: 'Journal Bridge', creationDate: date, modDate: date },
    pageSize: 'A4',
    pageOrientation: options.orientation ?? 'landscape',
    pageMargins: options.pageNumbers ? [28, 24, 28, 36] : MARGINS,
    defaultStyle: { font: 'Roboto', fontSize: 9 },
    styles: {
      h1: { fontSize: 16, bold: true, margin: [0, 0, 0, 8] },
      h2: { fontSize: 12, bold: true, margin: [0, 0, 0, 6] },
      th: { bold: true, fontSize: 7.5, alignment: 'center' },
      small: { fontSize: 7 },
    },
    footer: options.pageNumbers ? (page, pages) => ({ text: `${page} / ${pages}`, alignment: 'right', fontSize: 7, margin: [28, 12, 28, 0] }) : undefined,
    content,
  };
  return pdfmake.createPdf(definition).getBuffer();
}

/** The seal's footer: the QR code (verifyUrl), the short code, the digest's first 16 hex digits, the page number. */
export function sealFooter(seal: PageSeal, label: string): (page: number, pages: number) => Content {
  return (page, pages) => ({
    margin: [MARGINS[0], 8, MARGINS[2], 0],
    columns: [
      { qr: seal.verifyUrl, fit: 58, eccLevel: 'M', width: 64 },
      {
        width: '*',
        margin: [6, 6, 0, 0],
        stack: [
          { text: [{ text: 'Печать страницы: ', fontSize: 7 }, { text: seal.code, bold: true, fontSize: 10 }] },
          { text: `sha256 ${seal.digest.slice(0, 16)}…`, fontSize: 7, margin: [0, 2, 0, 0] },
          { text: `Проверка: отсканируйте QR-код или введите код на странице проверки`, fontSize: 6.5, color: '#555555', margin: [0, 2, 0, 0] },
        ],
      },
      { width: 'auto', margin: [0, 6, 0, 0], stack: [{ text: label, fontSize: 7, alignment: 'right' }, { text: `стр. ${page} из ${pages}`, fontSize: 8, alignment: 'right', margin: [0, 2, 0, 0] }] },
    ],
  });
}

/** One sealed logical page: a section whose every physical page (an overflow too) carries the seal. */
export function sealedSection(content: Content, seal: PageSeal, label: string): ContentSection {
  return { section: content, footer: sealFooter(seal, label), pageOrientation: 'landscape' };
}
