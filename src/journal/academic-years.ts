import type { BatchContext } from './context.js';
import { newId } from './ids.js';

/**
 * Makes sure the school has the academic years its records name (1 September – 31 August; platforms
 * name the year, not its rows) and fills `ctx.academicYears`.
 */
export async function prepareAcademicYears(ctx: BatchContext, years: Iterable<number>): Promise<void> {
  const wanted = [...new Set(years)].filter((y) => !ctx.academicYears.has(y));
  if (wanted.length === 0) return;
  const created = await ctx.client.query<{ id: string; start_year: number; title: string; start_date: string; end_date: string }>(
    `INSERT INTO academic_year (id, school_id, start_year, title, start_date, end_date)
     SELECT u.id, $1, u.y, u.y || '/' || (u.y + 1), make_date(u.y, 9, 1), make_date(u.y + 1, 8, 31)
       FROM unnest($2::uuid[], $3::int[]) AS u(id, y)
     ON CONFLICT (school_id, start_year) DO NOTHING
     RETURNING id::text, start_year, title, start_date::text, end_date::text`,
    [ctx.source.schoolId, wanted.map(() => newId()), wanted],
  );
  for (const row of created.rows) {
    const after = JSON.stringify({ start_year: row.start_year, title: row.title, start_date: row.start_date, end_date: row.end_date });
    ctx.events.push({ entityType: 'academic_year', entityId: row.id, op: 'create', before: null, after });
  }
  const { rows } = await ctx.client.query<{ id: string; start_year: number }>(
    'SELECT id::text, start_year FROM academic_year WHERE school_id = $1 AND start_year = ANY($2::int[])',
    [ctx.source.schoolId, wanted],
  );
  for (const row of rows) ctx.academicYears.set(row.start_year, row.id);
}
