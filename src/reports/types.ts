/**
 * What the printed documents are made of. The archive (src/archive) builds these from the journal and
 * seals them; the renderers (journal-pdf.ts, summary-*.ts, report renderers) only lay them out. A page's
 * digest is computed over its `PageContent` in canonical JSON (src/archive/digest.ts), never over the PDF
 * bytes: the same content gives the same digest whatever the renderer's version.
 */

/** One class × subject page of one period, exactly as printed. */
export interface PageContent {
  classId: string;
  className: string;
  subjectId: string;
  subjectName: string;
  periodId: string;
  periodTitle: string;
  /** ISO dates, both included. */
  from: string;
  to: string;
  /** The source whose values the page prints: the school's electronic journal of record (src/archive/content.ts). */
  source?: { id: string; title: string } | null;
  /** The subject's teacher(s) as printed ("Иванова Мария Петровна"), staff only. */
  teachers: string[];
  /** In date, slot order; `group` is the subgroup's name when the lesson is a subgroup's, else null. */
  lessons: Array<{
    id: string;
    date: string;
    slot: number;
    group: string | null;
    topic: string | null;
    homework: string | null;
    status: 'planned' | 'held' | 'cancelled';
  }>;
  /** In the journal's order (last name, first name). `name` as printed: «Фамилия Имя». */
  pupils: Array<{ id: string; name: string }>;
  /**
   * cells[pupil][lesson]: the cell's text as printed — the marks in entry order as the teacher wrote them
   * («5-»; a pass «зч»), separated by a space, then the absence as the paper journal writes it («н», «б», «уп»,
   * «оп»), whatever the platform's own spelling («5 4», «н», «4 н», «»).
   */
  cells: string[][];
  /** Per pupil (same order), the period mark as written («5», «зч», «н/а»), or null. */
  periodMarks: Array<string | null>;
}

/** The seal printed on each page: its short code and what its QR code encodes. */
export interface PageSeal {
  /** Short, human-typable: «JB-7K3Q-94XD». */
  code: string;
  /** sha256 hex of the page content. */
  digest: string;
  sealId: string;
  /** What the QR code encodes: the verify page's URL with the code and digest (…/v1/seals/{code}?d={digest}). */
  verifyUrl: string;
}

/** A class's sealed journal for one period: a title page, then per subject the left and right pages. */
export interface JournalDocument {
  school: { name: string };
  className: string;
  /** «2025/2026 учебный год». */
  yearTitle: string;
  periodTitle: string;
  classTeacher: string | null;
  /** ISO instant of the seal. */
  sealedAt: string;
  /** The class's title page seal (over the list of page digests). */
  titleSeal: PageSeal;
  pages: Array<{ content: PageContent; seal: PageSeal }>;
}

/** «Сводная ведомость учёта успеваемости» of one class for one year. */
export interface SummarySheet {
  school: { name: string };
  classId: string;
  className: string;
  yearTitle: string;
  /** The reporting periods in order, then the columns after them (year, exam, final) that have any mark. */
  columns: Array<{ id: string; title: string; kind: string }>;
  subjects: Array<{ id: string; name: string }>;
  pupils: Array<{
    id: string;
    name: string;
    /** marks[subjectIndex][columnIndex]: the mark as written, or null. */
    marks: Array<Array<string | null>>;
    /** Lessons missed in the year: all, and of those with a valid reason (illness included). */
    absences: { lessons: number; excused: number };
  }>;
}
