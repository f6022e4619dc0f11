import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { Pool } from './db/pool.js';
import { verifyAudit } from './auth/audit.js';
import { PERMISSIONS, type Permission } from './auth/caller.js';
import { createAuth } from './auth/index.js';
import type { WithDatabase } from './cli-sync.js';
import { systemClock } from './lib/clock.js';
import { ValidationError } from './lib/errors.js';
import { loadSecretBox } from './lib/secret-box.js';
import type { Config } from './config.js';
import { authSettingsOf } from './main.js';

/** `users create-admin`, `api-keys create|list|revoke`, `audit verify`: access from the command line (recorded as `cli` in the audit log). */
export function registerAuthCommands(program: Command, withDatabase: WithDatabase): void {
  const authOf = async (pool: Pool, config: Config) =>
    createAuth(pool, await loadSecretBox(config.CONNECTION_SECRETS_KEY, config.DATA_DIR, { external: config.DATABASE_URL !== undefined }), systemClock, authSettingsOf(config));
  const users = program.command('users').description('people who sign in');
  users
    .command('create-admin')
    .description('create a school IT administrator (of --school, else of every school); prints the password when none is given')
    .requiredOption('--login <login>', 'an e-mail, a phone or a user name')
    .option('--password <password>', 'at least 10 characters; generated and printed when left out')
    .option('--school <id>', 'the school (default: every school in the database)')
    .action((o: { login: string; password?: string; school?: string }) =>
      withDatabase(async (db, config) => {
        const auth = await authOf(db.pool, config);
        const schools = o.school ? [o.school] : await allSchools(db.pool);
        if (schools.length === 0) throw new ValidationError('there is no school yet: configure one (or start the demo) first');
        const password = o.password ?? randomBytes(12).toString('base64url');
        const user = await auth.users.create({ kind: 'staff', login: o.login, password, memberships: schools.map((schoolId) => ({ schoolId, roles: ['it_admin'] })) }, 'cli');
        process.stdout.write(`administrator ${user.login} (${user.id}) of ${schools.length} school(s)\n`);
        if (!o.password) process.stdout.write(`password: ${password}\n`);
      }),
    );
  const keys = program.command('api-keys').description('API keys of other systems');
  keys
    .command('create')
    .description('create an API key and print it once (use it as `Authorization: Bearer <key>`)')
    .requiredOption('--scopes <list>', `comma-separated: ${PERMISSIONS.join(', ')}`)
    .option('--school <id>', 'the school (default: the only school)')
    .option('--all-schools', 'a region-level key: its scopes in every school')
    .option('--name <name>', 'what uses it', 'cli')
    .option('--expires <iso>', 'an expiry instant')
    .action((o: { scopes: string; school?: string; allSchools?: boolean; name: string; expires?: string }) =>
      withDatabase(async (db, config) => {
        const auth = await authOf(db.pool, config);
        const scopes = o.scopes.split(',').map((s) => s.trim()).filter(Boolean) as Permission[];
        const schoolIds = o.allSchools ? null : [o.school ?? (await onlySchool(db.pool))];
        const expiresAt = o.expires ? new Date(o.expires) : null;
        if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new ValidationError('--expires: an ISO instant such as 2027-06-30T00:00:00Z');
        const { key, view } = await auth.keys.create({ name: o.name, schoolIds, scopes, expiresAt }, 'cli');
        process.stdout.write(`${key}\n`);
        process.stderr.write(`key ${view.id}: ${view.scopes.join(', ')} in ${view.schoolIds ? view.schoolIds.join(', ') : 'every school'}; shown once — keep it now\n`);
      }),
    );
  keys
    .command('revoke <id>')
    .description('revoke an API key at once')
    .action((id: string) =>
      withDatabase(async (db) => {
        const { rowCount } = await db.pool.query('UPDATE api_key SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1', [id]);
        process.stdout.write(rowCount ? `revoked ${id}\n` : `no key ${id}\n`);
        return rowCount ? 0 : 1;
      }),
    );
  program
    .command('audit')
    .description('the audit log')
    .command('verify')
    .description('recompute every school\'s audit chain; exit 1 on a broken one')
    .action(() =>
      withDatabase(async (db) => {
        const { rows } = await db.pool.query<{ school_id: string }>('SELECT school_id::text FROM audit_head ORDER BY school_id');
        let broken = 0;
        for (const { school_id } of rows) {
          const verdict = await verifyAudit(db.pool, school_id);
          if (!verdict.ok) broken += 1;
          process.stdout.write(`${school_id}: ${verdict.entries} entries, ${verdict.ok ? 'OK' : `BROKEN at ${verdict.firstBroken}: ${verdict.reason}`}\n`);
        }
        return broken > 0 ? 1 : 0;
      }),
    );
}

async function allSchools(pool: Pool): Promise<string[]> {
  return (await pool.query<{ id: string }>('SELECT id::text FROM school ORDER BY created_at, id')).rows.map((r) => r.id);
}

async function onlySchool(pool: Pool): Promise<string> {
  const schools = await allSchools(pool);
  if (schools.length !== 1) throw new ValidationError(`--school: there are ${schools.length} schools; name one (or --all-schools)`);
  return schools[0]!;
}
