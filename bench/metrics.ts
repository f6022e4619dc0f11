import { writeFile } from 'node:fs/promises';

/** One benchmark figure, as written to bench/results.json. */
export interface Metric {
  name: string;
  value: number;
  unit: string;
}

export function formatTable(metrics: readonly Metric[]): string {
  const width = Math.max(...metrics.map((m) => m.name.length));
  return metrics.map((m) => `${m.name.padEnd(width)}  ${String(m.value).padStart(12)}  ${m.unit}`).join('\n');
}

export async function writeResults(file: string, metrics: readonly Metric[]): Promise<void> {
  await writeFile(file, `${JSON.stringify(metrics, null, 2)}\n`);
}
