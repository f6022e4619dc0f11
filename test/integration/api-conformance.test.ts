import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express, { type Express } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import request from 'supertest';
import { fixedClock } from '../../src/lib/clock.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import { signInCallers, startAccessRig, type AccessRig, type SchoolCallers, type SchoolFixture } from '../support/access-fixture.js';

/**
 * The answers equal the spec: the service behind express-openapi-validator with response validation
 * on, called by each role on its own school's objects. A response the spec does not describe (a field
 * missing, a wrong type, an undeclared status) comes back as 500 naming the mismatch.
 */
const SPEC = fileURLToPath(new URL('../../openapi/openapi.yaml', import.meta.url));
const clock = fixedClock(new Date('2025-10-31T12:00:00Z'));
const box = new SecretBox(randomBytes(32));
let rig: AccessRig;
let checked: Express;
let A: SchoolFixture;
let as: SchoolCallers;

beforeAll(async () => {
  rig = await startAccessRig(clock, box, [51]);
  A = rig.schools[0]!;
  as = await signInCallers(rig.auth, A, 'a');
  checked = express();
  checked.use(express.json({ limit: '1mb' }));
  checked.use(OpenApiValidator.middleware({ apiSpec: SPEC, validateRequests: false, validateResponses: { removeAdditional: false }, validateSecurity: false, ignoreUndocumented: true }));
  checked.use(rig.app);
  checked.use(((error, _req, res, _next) => {
    res.status(599).json({ mismatch: (error as { errors?: unknown }).errors ?? String(error) });
  }) as express.ErrorRequestHandler);
}, 300_000);

afterAll(async () => {
  await rig?.close();
});

const journal = `?subject=`;
describe('responses as the spec describes them', () => {
  it('for each role reading its own school', async () => {
    const urls = [
      '/v1/me', '/v1/schools', `/v1/schools/${A.schoolId}/classes`, `/v1/classes/${A.classId}/journal${journal}${A.subjectId}&from=2025-09-01&to=2025-10-31`,
      `/v1/schools/${A.schoolId}/classes/${A.classId}/journal${journal}${A.subjectId}&from=2025-10-01&to=2025-10-31`,
      `/v1/connections?school=${A.schoolId}`, `/v1/connections/${A.connectionId}`, '/v1/platforms', `/v1/sync-runs?connection=${A.connectionId}`,
      `/v1/sync-runs/${A.runId}`, '/v1/alerts', `/v1/discrepancies?school=${A.schoolId}`, `/v1/discrepancies/${A.discrepancyId}`,
      `/v1/schools/${A.schoolId}/compliance`, `/v1/schools/${A.schoolId}/profile`, `/v1/notifications?school=${A.schoolId}`,
      `/v1/schools/${A.schoolId}/notify-policy`, `/v1/schools/${A.schoolId}/notify-providers`, `/v1/people/${A.parentId}/contacts`,
      `/v1/people/${A.parentId}/consents`, `/v1/people/${A.parentId}/notify-preferences`, '/v1/api-keys', `/v1/schools/${A.schoolId}/users`,
      `/v1/schools/${A.schoolId}/audit`, `/v1/schools/${A.schoolId}/audit/verify`, `/v1/schools/${A.schoolId}/webhooks`, `/v1/webhooks/${A.webhookId}`,
      `/v1/webhooks/${A.webhookId}/messages`, `/v1/schools/${A.schoolId}/marks/${A.markId}`, `/v1/schools/${A.schoolId}/attendance/${A.attendanceId}`,
      `/v1/schools/${A.schoolId}/lessons/${A.lessonId}`, `/v1/schools/${A.schoolId}/webhook-allowed-targets`,
      `/v1/pupils/${A.childId}/week?week=2025-10-20`, '/v1/me/children',
      `/v1/classes/${A.classId}/summary-sheet?format=json`, `/v1/classes/${A.classId}/summary-sheet?format=xlsx`,
      ...['progress', 'attendance', 'missing_final_marks', 'journal_fill', 'user_activity'].map((kind) => `/v1/reports/${kind}?school=${A.schoolId}&format=json`),
      `/v1/reports/class_teacher_period?school=${A.schoolId}&class=${A.classId}&format=json`, `/v1/reports/attendance?school=${A.schoolId}&format=pdf`,
      '/v1/backups',
    ];
    const mismatches: string[] = [];
    let ok = 0;
    for (const [role, token] of Object.entries(as)) {
      for (const url of urls) {
        const res = await request(checked).get(url).set('authorization', `Bearer ${token}`);
        if (res.status === 599) mismatches.push(`${role} GET ${url}: ${JSON.stringify(res.body.mismatch)}`);
        else if (res.status === 200) ok += 1;
      }
    }
    expect(mismatches).toEqual([]);
    expect(ok).toBeGreaterThan(60);
  });
});
