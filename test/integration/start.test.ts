import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { generateSchool } from '../../src/demo/generator.js';
import { listeningUrl, waitFor } from '../support/processes.js';

/**
 * `npm start` as a newcomer runs it: no DATABASE_URL, so an embedded Postgres in DATA_DIR, the demo
 * school loaded behind a listening server, a clean stop on SIGTERM.
 */
let child: ChildProcess | undefined;
let dataDir: string;

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('npm start on a fresh machine', () => {
  it('serves /health and a filled journal page, syncs the demo platforms through their adapters, and stops cleanly', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'jb-start-'));
    await chmod(dataDir, 0o755);
    // PORT 0: the OS gives a free port, which the service logs.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', DEMO_PUPILS: '120' };
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const base = await listeningUrl(child, exited);
    const health = await waitFor('the demo', async () => {
      const body = (await (await fetch(`${base}/health`)).json()) as { status: string; demo: { status: string }; counts: { marks: number } };
      return body.demo.status === 'ready' ? body : undefined;
    }, 120_000);
    expect(health.status).toBe('ok');
    expect(health.counts.marks).toBeGreaterThan(1000);
    const schools = (await (await fetch(`${base}/v1/schools`)).json()) as { data: Array<{ id: string }> };
    const classes = (await (await fetch(`${base}/v1/schools/${schools.data[0]!.id}/classes`)).json()) as { data: Array<{ id: string; name: string }> };
    const cls = classes.data.find((c) => c.name === '5А')!;
    const subjects = (await (await fetch(`${base}/v1/classes/${cls.id}/journal`)).json()) as { error: { details: { subjects: Array<{ id: string; name: string }> } } };
    const math = subjects.error.details.subjects.find((s) => s.name === 'Математика')!;
    const page = (await (await fetch(`${base}/v1/classes/${cls.id}/journal?subject=${math.id}`)).json()) as { lessons: unknown[]; rows: Array<{ cells: Array<{ marks: unknown[] }> }> };
    expect(page.lessons.length).toBeGreaterThan(0);
    expect(page.rows.flatMap((r) => r.cells).some((c) => c.marks.length > 0)).toBe(true);

    // The demo's platforms: the simulators' connections, synced through the adapters.
    const connections = await waitFor('the demo connections', async () => {
      const list = (await (await fetch(`${base}/v1/connections`)).json()) as { data: Array<{ id: string; platform: string; title: string; secretsSet: string[] }> };
      return list.data.length >= 4 ? list : undefined;
    }, 30_000);
    expect(connections.data.map((c) => c.platform).sort()).toEqual(['dnevnikru', 'edutatar', 'kundoluk', 'netschool']);
    expect(JSON.stringify(connections.data)).not.toMatch(/"password"\s*:/);
    for (const connection of connections.data) {
      const run = await waitFor(`the first ${connection.platform} sync`, async () => {
        const runs = (await (await fetch(`${base}/v1/sync-runs?connection=${connection.id}`)).json()) as { data: Array<{ status: string; counts: Record<string, { created: number }> }> };
        const done = runs.data.find((r) => r.status !== 'queued' && r.status !== 'running');
        return done;
      }, 150_000);
      expect(run.status).toBe('succeeded');
      expect(Object.values(run.counts).reduce((n, c) => n + c.created, 0)).toBeGreaterThan(100);
    }
    // Every platform names the subgroups its own way («5А англ. гр. 1», «5А Английский язык гр. 1», «… 1 группа»): still one group each.
    const after = (await (await fetch(`${base}/v1/schools/${schools.data[0]!.id}/classes`)).json()) as { data: Array<{ name: string }> };
    expect(after.data).toHaveLength(generateSchool({ seed: 1, pupils: 120, year: 2025 }).groups.length);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
  }, 240_000);
});
