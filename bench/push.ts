import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createAuth } from '../src/auth/index.js';
import type { PrismaClient } from '../src/db/prisma.js';
import { createSchoolRepository } from '../src/db/repositories/schools.js';
import { createApp } from '../src/http/app.js';
import { SecretBox } from '../src/lib/secret-box.js';
import { pushMarks, pushRoster } from '../test/support/push-records.js';
import type { Pool } from '../src/db/pool.js';
import { applyBatch } from '../src/journal/apply-batch.js';
import { systemClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import type { Metric } from './metrics.js';

const PUPILS = 30;
const LESSONS = 200;
const BATCH = 1000;
const BATCHES = 40;

/**
 * The push API against applyBatch fed directly: two schools with the same roster, then BATCHES batches of
 * BATCH new marks each, the i-th batch to one school through POST /v1/connections/{id}/records (a
 * listening API over loopback: the key's sign-in, JSON parsing, the idempotency row, the answer) and to the other
 * straight into applyBatch, the two taking turns at going first. One warm-up batch each, not counted;
 * records/s of the median batch of each.
 */
export async function benchPush(o: { pool: Pool; prisma: PrismaClient; log: (message: string) => void }): Promise<Metric[]> {
  const http = await makeSchool(o.pool, 'Push HTTP');
  const direct = await makeSchool(o.pool, 'Push direct');
  // The service's own API (sign-in by an API key with records:write, the access check, the JSON parser).
  const auth = createAuth(o.pool, new SecretBox(randomBytes(32)), systemClock, { sessionTtlSeconds: 3600 });
  const key = (await auth.keys.create({ name: 'bench', schoolIds: [http.schoolId], scopes: ['records:write'] }, 'bench')).key;
  const app = createApp({
    auth, rates: { perCallerPerMinute: 1_000_000, perAddressPerMinute: 1_000_000 }, pool: o.pool, schools: createSchoolRepository(o.prisma),
    logger: createLogger('silent'), embedded: false, demoStatus: () => ({ status: 'off' }), clock: systemClock,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/connections/${http.connectionId}/records`;
  const httpMs: number[] = [];
  const directMs: number[] = [];
  try {
    for (let i = 0; i <= BATCHES; i++) {
      const records = pushMarks('b-', PUPILS, LESSONS, BATCH, i);
      // The sender's serializing is the sender's work, not the API's: the body is ready before the clock starts.
      const body = JSON.stringify({ records });
      const viaHttp = async () => {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `batch-${i}`, authorization: `Bearer ${key}` }, body });
        const answer = (await res.json()) as { created?: number };
        if (res.status !== 200 || answer.created !== BATCH) throw new Error(`push bench: unexpected answer ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
      };
      const viaApply = async () => {
        const applied = await applyBatch(o.pool, systemClock, { connectionId: direct.connectionId, stream: 'push', records });
        if (applied.created !== BATCH) throw new Error(`push bench: applyBatch created ${applied.created}`);
      };
      // Taking turns at going first, so neither always meets the other's leftovers (autovacuum, dirty pages).
      let httpTime: number;
      let applyTime: number;
      if (i % 2 === 0) {
        httpTime = await timed(viaHttp);
        applyTime = await timed(viaApply);
      } else {
        applyTime = await timed(viaApply);
        httpTime = await timed(viaHttp);
      }
      if (i === 0) continue;
      httpMs.push(httpTime);
      directMs.push(applyTime);
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  // Medians of the batches: the figure of a typical batch, not of the one another process on the machine slowed down.
  const pushRate = BATCH / (median(httpMs) / 1000);
  const directRate = BATCH / (median(directMs) / 1000);
  o.log(`${BATCHES} batches of ${BATCH} marks: push API ${(sum(httpMs) / 1000).toFixed(2)} s (median ${median(httpMs).toFixed(1)} ms), applyBatch direct ${(sum(directMs) / 1000).toFixed(2)} s (median ${median(directMs).toFixed(1)} ms)`);
  return [
    { name: 'push.records_per_s', value: Math.round(pushRate), unit: 'records/s' },
    { name: 'push.direct_apply_records_per_s', value: Math.round(directRate), unit: 'records/s' },
    { name: 'push.vs_direct_apply', value: Number((pushRate / directRate).toFixed(3)), unit: 'ratio' },
  ];
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timed(work: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

async function makeSchool(pool: Pool, name: string): Promise<{ schoolId: string; connectionId: string }> {
  const school = await pool.query<{ id: string }>(`INSERT INTO school (name, region, time_zone) VALUES ($1, 'Bench', 'Europe/Moscow') RETURNING id::text`, [name]);
  const schoolId = school.rows[0]!.id;
  const connection = await pool.query<{ id: string }>(`INSERT INTO connection (school_id, platform, title) VALUES ($1, 'push', $2) RETURNING id::text`, [schoolId, name]);
  const connectionId = connection.rows[0]!.id;
  await applyBatch(pool, systemClock, { connectionId, stream: 'push', records: pushRoster('b-', PUPILS, LESSONS) });
  return { schoolId, connectionId };
}
