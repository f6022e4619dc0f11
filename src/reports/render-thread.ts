import { parentPort } from 'node:worker_threads';
import { renderJournalPdf } from './journal-pdf.js';
import { renderSummaryPdf, renderSummaryXlsx } from './summary.js';
import type { RenderJob } from './render-pool.js';

/** The rendering thread (render-pool.ts): one job at a time, its bytes or its error back to the caller. */
parentPort!.on('message', (job: RenderJob) => {
  void render(job).then(
    (bytes) => parentPort!.postMessage({ id: job.id, bytes }),
    (error: unknown) => parentPort!.postMessage({ id: job.id, error: error instanceof Error ? error.message : String(error) }),
  );
});

function render(job: RenderJob): Promise<Buffer> {
  if (job.kind === 'journal') return renderJournalPdf(job.doc);
  if (job.kind === 'summary_pdf') return renderSummaryPdf(job.doc, job.date);
  return renderSummaryXlsx(job.doc, job.date);
}
