import { readFile, writeFile } from 'node:fs/promises';

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

/** Writes the figures, keeping those of the parts not run this time (BENCH_ONLY). */
export async function writeResults(file: string, metrics: readonly Metric[]): Promise<void> {
  const previous = await readFile(file, 'utf8').then((text) => JSON.parse(text) as Metric[], () => []);
  const names = new Set(metrics.map((m) => m.name));
  await writeFile(file, `${JSON.stringify([...previous.filter((m) => !names.has(m.name)), ...metrics], null, 2)}\n`);
}
