import type { Pool } from '../db/pool.js';
import { reportData, type ReportKind, type ReportRequest, type ReportWindow } from './kinds.js';
import { renderTablesPdf, renderTablesXlsx } from './table.js';

export { REPORT_KINDS, type ReportKind, type ReportRequest } from './kinds.js';

export const REPORT_FORMATS = ['pdf', 'xlsx', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const MEDIA_TYPES: Record<ReportFormat, string> = {
  pdf: 'application/pdf',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  json: 'application/json',
};

export interface ProducedReport {
  filename: string;
  mediaType: string;
  bytes: Buffer;
  /** The report's numbers (what the JSON format is), with the window it covers. */
  data: { kind: ReportKind; window: ReportWindow; data: unknown };
}

/**
 * One report in one format: the entry point of the API, the CLI, the scheduler and the archive. The
 * JSON is the data function's result; PDF and XLSX render the same data's table description.
 */
export async function produceReport(pool: Pool, request: ReportRequest, format: ReportFormat, now = new Date()): Promise<ProducedReport> {
  const { window, data, document } = await reportData(pool, request, now);
  const body = { kind: request.kind, window, data };
  const bytes = format === 'pdf' ? await renderTablesPdf(document)
    : format === 'xlsx' ? await renderTablesXlsx(document)
      : Buffer.from(`${JSON.stringify(body, null, 2)}\n`);
  const scope = [request.kind, window.class?.name, window.period ? window.period.title : `${window.from}_${window.to}`].filter(Boolean).join('-');
  return { filename: `${safeName(scope)}.${format}`, mediaType: MEDIA_TYPES[format], bytes, data: body };
}

/** A file name of letters, digits and dashes only (a class name «5А», a period «1 четверть» kept readable). */
export function safeName(text: string): string {
  return text.replace(/[^\p{L}\p{N}_.-]+/gu, '_').slice(0, 120);
}
