/**
 * One value per journal cell: the page shows what the school's primary source says
 * (src/checks/rules/sources.ts primarySourceOf) and, per cell, whether the other sources that have
 * anything on the lesson (or an open discrepancy about the cell names) agree, what they say when they do
 * not, and the open discrepancies about it.
 * "Agree" is the cross-source checks' verdict, not a second comparison: another source differs in a cell
 * when an open (or acknowledged) paper or cross-source discrepancy about the cell names it
 * (src/checks/rules/cross-source.ts, which compares two sources only in what both can say). The checks
 * run after every sync, so the page follows them within one evaluation. A lesson the primary has nothing on shows the first source (in creation order) that
 * has, so a page is not blank where the primary has not transcribed the lesson yet.
 */

export interface SourcedMark {
  pupil_id: string;
  lesson_id: string;
  sourceId: string;
}

export interface SourcedAbsence {
  pupil_id: string;
  lesson_id: string;
  sourceId: string;
  kind: string;
}

export interface CellDiscrepancy {
  id: string;
  lesson_id: string;
  pupil_id: string;
  source_ids: string[];
}

/** What another source says of a cell where it disagrees with the shown one. */
export interface CellVersion<M, A> {
  sourceId: string;
  marks: M[];
  absence: A | null;
  /** Open (or acknowledged) discrepancies about this cell that name this source. */
  discrepancyIds: string[];
}

export interface Cell<M, A> {
  /** Whose values `marks` and `absence` are (null: no source has anything on the lesson). */
  sourceId: string | null;
  marks: M[];
  absence: A | null;
  agreement: 'agree' | 'differ' | 'single';
  others: CellVersion<M, A>[];
}

export interface CellAssembly<MS extends SourcedMark, AS extends SourcedAbsence, M, A> {
  lessonIds: readonly string[];
  pupilIds: readonly string[];
  marks: readonly MS[];
  absences: readonly AS[];
  discrepancies: readonly CellDiscrepancy[];
  /** The school's sources in creation order, and its primary. */
  sourceOrder: readonly string[];
  primary: string | null;
  /** What of a fact the page shows. */
  showMark(mark: MS): M;
  showAbsence(absence: AS): A;
}

/** cells[pupil][lesson]. */
export function assembleCells<MS extends SourcedMark, AS extends SourcedAbsence, M, A>(page: CellAssembly<MS, AS, M, A>): Cell<M, A>[][] {
  const marks = groupByCell(page.marks);
  const absences = groupByCell(page.absences);
  const issues = groupByCell(page.discrepancies);
  const order = (id: string) => {
    const i = page.sourceOrder.indexOf(id);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const knownBy = new Map<string, string[]>();
  for (const f of [...page.marks, ...page.absences]) {
    const known = knownBy.get(f.lesson_id) ?? [];
    if (!known.includes(f.sourceId)) knownBy.set(f.lesson_id, [...known, f.sourceId].sort((x, y) => order(x) - order(y)));
  }
  return page.pupilIds.map((pupil) => page.lessonIds.map((lesson): Cell<M, A> => {
    const key = `${pupil}|${lesson}`;
    const known = knownBy.get(lesson) ?? [];
    const shown = page.primary !== null && known.includes(page.primary) ? page.primary : (known[0] ?? null);
    const marksOf = (source: string) => (marks.get(key) ?? []).filter((m) => m.sourceId === source);
    const absenceOf = (source: string) => (absences.get(key) ?? []).filter((a) => a.sourceId === source).sort((x, y) => cmp(x.kind, y.kind))[0] ?? null;
    const others: CellVersion<M, A>[] = [];
    // Compared: the sources with anything on the lesson, and any an open discrepancy about the cell names
    // (a mark in the primary only, where the other source has nothing on that lesson at all).
    const named = (issues.get(key) ?? []).flatMap((d) => d.source_ids).filter((s) => page.sourceOrder.includes(s));
    const compared = [...new Set([...known, ...named])].filter((s) => s !== shown).sort((x, y) => order(x) - order(y));
    if (shown !== null) {
      for (const source of compared) {
        const discrepancyIds = (issues.get(key) ?? []).filter((d) => d.source_ids.includes(source)).map((d) => d.id);
        if (discrepancyIds.length === 0) continue;
        const absence = absenceOf(source);
        others.push({ sourceId: source, marks: marksOf(source).map((m) => page.showMark(m)), absence: absence && page.showAbsence(absence), discrepancyIds });
      }
    }
    const absence = shown === null ? null : absenceOf(shown);
    return {
      sourceId: shown,
      marks: shown === null ? [] : marksOf(shown).map((m) => page.showMark(m)),
      absence: absence && page.showAbsence(absence),
      agreement: shown === null || compared.length === 0 ? 'single' : others.length === 0 ? 'agree' : 'differ',
      others,
    };
  }));
}

const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

function groupByCell<T extends { pupil_id: string; lesson_id: string }>(facts: readonly T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const f of facts) {
    const key = `${f.pupil_id}|${f.lesson_id}`;
    const list = map.get(key);
    if (list) list.push(f);
    else map.set(key, [f]);
  }
  return map;
}
