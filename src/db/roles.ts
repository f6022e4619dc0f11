import type pg from 'pg';
import { quoteIdent, withClient, type Pool } from './pool.js';

/**
 * Two database roles, so that the running service cannot quietly rewrite the journal's history:
 *
 * - the **owner** owns the schema and runs the migrations (`journal_owner` in the embedded default,
 *   DATABASE_OWNER_URL in a deployment);
 * - the **application** role (`journal_app`, DATABASE_URL) reads and writes the journal but has no
 *   UPDATE, DELETE or TRUNCATE on the history tables, nor any right on the migrations' bookkeeping.
 *
 * Row triggers already refuse UPDATE and DELETE of history; TRUNCATE fires no row trigger, and a
 * superuser or the owner can disable triggers — which is why the application must not be either, and why
 * the chain head is also anchored outside the database (journal/anchors.ts).
 */
export const OWNER_ROLE = 'journal_owner';
export const APP_ROLE = 'journal_app';

/** Append-only tables: the application may read and insert, never change or remove (the audit log joins them). */
export const HISTORY_TABLES = ['journal_event', 'audit_log', 'seal', 'seal_page', 'archive_item'] as const;

/** The schema pg-boss keeps its jobs in: the application's own (it creates a table per queue at run time). */
export const QUEUE_SCHEMA = 'pgboss';

const ident = quoteIdent;

/**
 * The embedded default's set-up, as the cluster's superuser: both roles (passwords from the data
 * directory), the database owned by the owner, and the queue's schema owned by the application. A data
 * directory from before the roles existed has its objects handed to them.
 */
export async function prepareRoles(superuserUrl: string, database: string, passwords: { owner: string; app: string }): Promise<void> {
  await withClient(superuserUrl, async (client) => {
    for (const [role, password] of [[OWNER_ROLE, passwords.owner], [APP_ROLE, passwords.app]] as const) {
      const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
      const literal = client.escapeLiteral(password);
      await client.query(`${exists ? 'ALTER' : 'CREATE'} ROLE ${ident(role)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${literal}`);
    }
    const found = await client.query<{ owner: string }>('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${ident(database)} OWNER ${ident(OWNER_ROLE)}`);
    else if (found.rows[0]!.owner !== OWNER_ROLE) await client.query(`ALTER DATABASE ${ident(database)} OWNER TO ${ident(OWNER_ROLE)}`);
  });
  const url = new URL(superuserUrl);
  url.pathname = `/${database}`;
  await withClient(url.toString(), async (client) => {
    await client.query(`ALTER SCHEMA public OWNER TO ${ident(OWNER_ROLE)}`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(QUEUE_SCHEMA)} AUTHORIZATION ${ident(APP_ROLE)}`);
    await handOver(client, 'public', OWNER_ROLE);
    await handOver(client, QUEUE_SCHEMA, APP_ROLE);
    // CREATE: pg-boss installs its schema with CREATE SCHEMA IF NOT EXISTS, which asks for it even when the schema exists.
    await client.query(`GRANT CONNECT, TEMPORARY, CREATE ON DATABASE ${ident(database)} TO ${ident(APP_ROLE)}`);
  });
}

/** Gives a schema and what is in it to `role` (objects another role created before the roles existed). */
async function handOver(client: pg.Client, schema: string, role: string): Promise<void> {
  await client.query(`ALTER SCHEMA ${ident(schema)} OWNER TO ${ident(role)}`);
  const { rows } = await client.query<{ statement: string }>(
    `SELECT format('ALTER %s %I.%I OWNER TO %I', CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                   n.nspname, c.relname, $2::text) AS statement
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'S', 'v', 'm') AND pg_get_userbyid(c.relowner) <> $2
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
     UNION ALL
     SELECT format('ALTER %s %I.%I(%s) OWNER TO %I', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, n.nspname, p.proname,
                   pg_get_function_identity_arguments(p.oid), $2::text)
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND pg_get_userbyid(p.proowner) <> $2
     UNION ALL
     SELECT format('ALTER TYPE %I.%I OWNER TO %I', n.nspname, t.typname, $2::text)
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = $1 AND t.typtype IN ('e', 'd') AND pg_get_userbyid(t.typowner) <> $2`,
    [schema, role],
  );
  for (const row of rows) await client.query(row.statement);
}

/**
 * After the migrations, as the owner: the application role may use every table of the schema, but only
 * read and append to history, and only read the migrations' records. Run after every migration, so that
 * new tables are covered (idempotent).
 */
export async function grantApplicationRole(owner: Pool, appRole: string): Promise<void> {
  const role = ident(appRole);
  const statements = [
    `GRANT USAGE ON SCHEMA public TO ${role}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`,
    `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${role}`,
    `REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON "_prisma_migrations" FROM ${role}`,
    ...HISTORY_TABLES.map((table) => `REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ${ident(table)} FROM ${role}`),
  ];
  const client = await owner.connect();
  try {
    // Postgres 17+: ANALYZE and VACUUM of the tables too (the demo's load refreshes the planner's counts); MAINTAIN gives no right to change rows.
    const { rows } = await client.query<{ v: number }>(`SELECT current_setting('server_version_num')::int AS v`);
    if (rows[0]!.v >= 170000) statements.push(`GRANT MAINTAIN ON ALL TABLES IN SCHEMA public TO ${role}`);
    for (const statement of statements) await client.query(statement);
  } finally {
    client.release();
  }
}

/** What the connected role could do to history that it must not: empty when history is protected from it. */
export async function historyRights(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ table: string; superuser: boolean; owner: boolean; update: boolean; delete: boolean; truncate: boolean }>(
    `SELECT t AS table, r.rolsuper AS superuser, pg_has_role(current_user, c.relowner, 'USAGE') AS owner,
            has_table_privilege(c.oid, 'UPDATE') AS update, has_table_privilege(c.oid, 'DELETE') AS delete,
            has_table_privilege(c.oid, 'TRUNCATE') AS truncate
       FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n) JOIN pg_class c ON c.oid = to_regclass(t) JOIN pg_roles r ON r.rolname = current_user
      ORDER BY u.n`,
    [HISTORY_TABLES],
  );
  return rows.flatMap((row) => {
    if (row.superuser) return [`${row.table}: superuser`];
    if (row.owner) return [`${row.table}: owner`];
    return (['update', 'delete', 'truncate'] as const).filter((right) => row[right]).map((right) => `${row.table}: ${right.toUpperCase()}`);
  });
}

