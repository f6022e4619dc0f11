import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { MEDIA_TYPES, safeName } from '../reports/produce.js';
import { readSummarySheet } from '../reports/summary.js';
import { renderThread } from '../reports/render-pool.js';
import type { JournalDocument, PageContent, PageSeal, SummarySheet } from '../reports/types.js';
import type { CloseView } from './close.js';
import type { TitleContent } from './digest.js';
import { NIL_UUID } from './seal.js';
import { fileInArchive, type ArchiveFiling, type ArchiveItemView } from './store.js';

/**
 * Step 4's printouts, from what was sealed (never from the journal as it is now, which may have changed
 * since): per class one PDF — its title page, then each subject's left and right pages — every page
 * carrying its seal's code and a QR code that opens `{publicUrl}/v1/seals/{code}?d={digest}`; and per
 * class the summary sheet of the year so far (PDF and XLSX), rendered off the service's thread
 * (reports/render-pool.ts). Each file is filed in the archive.
 */
export interface PrinterDeps {
  pool: Pool;
  clock: Clock;
  /** Where people reach the service (PUBLIC_URL, else its listening address). */
  publicUrl: () => string;
}

interface PageRow {
  class_group_id: string;
  subject_id: string;
  code: string;
  digest: string;
  content: PageContent | TitleContent;
}

export function printerOf(deps: PrinterDeps): (close: CloseView, classIds?: readonly string[]) => Promise<ArchiveItemView[]> {
  return async (close, only) => {
    const seal = close.seal!;
    const { rows: pages } = await deps.pool.query<PageRow>(
      'SELECT class_group_id::text, subject_id::text, code, digest, content FROM seal_page WHERE school_id = $1 AND seal_id = $2 ORDER BY position',
      [close.schoolId, seal.id],
    );
    const { rows: [head] } = await deps.pool.query<{ school: string; year: string }>(
      'SELECT s.name AS school, y.title AS year FROM school s JOIN academic_year y ON y.id = $2 WHERE s.id = $1', [close.schoolId, close.period.academicYearId]);
    const base = deps.publicUrl().replace(/\/+$/, '');
    const sealOf = (p: PageRow): PageSeal => ({ code: p.code, digest: p.digest, sealId: seal.id, verifyUrl: `${base}/v1/seals/${p.code}?d=${p.digest}` });
    const items: ArchiveItemView[] = [];
    const classes = [...new Set(pages.map((p) => p.class_group_id))].filter((c) => !only || only.includes(c));
    for (const classId of classes) {
      const ofClass = pages.filter((p) => p.class_group_id === classId);
      const title = ofClass.find((p) => p.subject_id === NIL_UUID)!;
      const titleContent = title.content as TitleContent;
      const doc: JournalDocument = {
        school: { name: head!.school }, className: titleContent.className, yearTitle: `${head!.year} учебный год`, periodTitle: close.period.title,
        classTeacher: titleContent.classTeacher, sealedAt: seal.createdAt, titleSeal: sealOf(title),
        pages: ofClass.filter((p) => p.subject_id !== NIL_UUID).map((p) => ({ content: p.content as PageContent, seal: sealOf(p) })),
      };
      const name = safeName(`${close.period.title}-${titleContent.className}`);
      items.push(await fileInArchive(deps.pool, deps.clock, {
        schoolId: close.schoolId, kind: 'journal_pdf', title: `Классный журнал ${titleContent.className}, ${close.period.title} (${seal.code})`,
        filename: `journal-${name}.pdf`, mediaType: MEDIA_TYPES.pdf, bytes: await renderThread.render({ kind: 'journal', doc }),
        periodId: close.period.id, classGroupId: classId, sealId: seal.id, actor: 'period-close',
      }));
      const sheet = await readSummarySheet(deps.pool, { schoolId: close.schoolId, classId, academicYearId: close.period.academicYearId });
      for (const file of await summaryFilings(sheet, seal.createdAt, ` (на ${close.period.title})`)) {
        items.push(await fileInArchive(deps.pool, deps.clock, { ...file, schoolId: close.schoolId, periodId: close.period.id, classGroupId: classId, sealId: seal.id, actor: 'period-close' }));
      }
    }
    return items;
  };
}

/** A class's summary sheet as the archive files it, PDF and XLSX (rendered off the service's thread); `note` ends the title. */
export async function summaryFilings(sheet: SummarySheet, date: string, note = ''): Promise<Array<Pick<ArchiveFiling, 'kind' | 'title' | 'filename' | 'mediaType' | 'bytes'>>> {
  const title = `Сводная ведомость ${sheet.className}, ${sheet.yearTitle}${note}`;
  const name = safeName(`summary-${sheet.yearTitle}-${sheet.className}`);
  return [
    { kind: 'summary_pdf', title, filename: `${name}.pdf`, mediaType: MEDIA_TYPES.pdf, bytes: await renderThread.render({ kind: 'summary_pdf', doc: sheet, date }) },
    { kind: 'summary_xlsx', title, filename: `${name}.xlsx`, mediaType: MEDIA_TYPES.xlsx, bytes: await renderThread.render({ kind: 'summary_xlsx', doc: sheet, date }) },
  ];
}
