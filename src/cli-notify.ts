import type { Command } from 'commander';
import type { WithDatabase } from './cli-sync.js';
import { systemClock } from './lib/clock.js';
import { ValidationError } from './lib/errors.js';
import { loadSecretBox } from './lib/secret-box.js';
import { notifySettingsOf } from './main.js';
import { NotifyEngine } from './notify/engine.js';
import { CHANNELS, type Channel } from './notify/policy.js';
import { getNotification, listNotifications, sendTest, STATUSES, type NotificationView } from './notify/service.js';
import { createLinkToken } from './notify/telegram-link.js';
import { TelegramConfigSchema, telegramBot } from './notify/channels/telegram.js';
import { webhookSecretOf } from './notify/telegram-webhook.js';
import { importParents, parentsTemplate } from './notify/parents-sheet.js';
import { readFile, writeFile } from 'node:fs/promises';

/** `notify …`: a test message, a message's path, the outbox, a Telegram link, from the command line (a running service's workers send). */
export function registerNotifyCommands(program: Command, withDatabase: WithDatabase): void {
  const notify = program.command('notify').description('notifications: parents by SMS, e-mail and Telegram, teachers’ alerts');
  notify
    .command('test')
    .description('queue a test message to a person (their first usable channel, or --channel) and wait until it is sent or fails')
    .requiredOption('--person <id>', 'person id')
    .option('--channel <channel>', CHANNELS.join(' | '))
    .option('--wait <seconds>', 'how long to wait for the outcome', '60')
    .action((o: { person: string; channel?: string; wait: string }) =>
      withDatabase(async (db, config, logger) => {
        if (o.channel && !(CHANNELS as readonly string[]).includes(o.channel)) throw new ValidationError(`--channel: one of ${CHANNELS.join(', ')}`);
        const box = await loadSecretBox(config.CONNECTION_SECRETS_KEY, config.DATA_DIR, { external: config.DATABASE_URL !== undefined });
        const engine = await NotifyEngine.start(db.pool, systemClock, logger, box, notifySettingsOf(config));
        try {
          const queued = await sendTest(db.pool, systemClock, engine.enqueue, o.person, o.channel as Channel | undefined);
          process.stdout.write(`queued ${queued.id} by ${queued.channel} to ${queued.to ?? '?'}\n`);
          const until = Date.now() + Number(o.wait) * 1000;
          for (;;) {
            const now = await getNotification(db.pool, queued.id);
            if (!['queued', 'sending'].includes(now.status) || Date.now() > until) {
              printPath(now.path);
              return now.status === 'sent' || now.status === 'delivered' ? 0 : 1;
            }
            await new Promise((r) => setTimeout(r, 500));
          }
        } finally {
          await engine.stop();
        }
      }),
    );
  notify
    .command('path <id>')
    .description('one message and its path: the first channel, fallbacks, the digest it went in, each with its state and reason')
    .action((id: string) => withDatabase(async (db) => printPath((await getNotification(db.pool, id)).path)));
  notify
    .command('list')
    .description('the outbox, newest first')
    .option('--school <id>')
    .option('--person <id>', 'messages to this person or about this pupil')
    .option('--status <list>', `comma-separated: ${STATUSES.join(', ')}`)
    .option('--channel <channel>')
    .option('--limit <n>', 'at most this many (≤ 200)', '50')
    .action((o: { school?: string; person?: string; status?: string; channel?: string; limit: string }) =>
      withDatabase(async (db) => {
        const page = await listNotifications(db.pool, { schoolId: o.school, personId: o.person, status: o.status?.split(','), channel: o.channel, limit: Math.min(200, Number(o.limit) || 50) });
        printPath(page.items);
      }),
    );
  notify
    .command('link')
    .description('a one-time Telegram deep link (15 minutes) that links the chat that opens it to this person')
    .requiredOption('--person <id>', 'person id')
    .action((o: { person: string }) =>
      withDatabase(async (db) => {
        const { rows } = await db.pool.query<{ school_id: string }>('SELECT school_id::text FROM person WHERE id = $1', [o.person]);
        if (!rows[0]) throw new ValidationError('no such person');
        const link = await createLinkToken(db.pool, systemClock, { schoolId: rows[0].school_id, personId: o.person, createdBy: 'cli' });
        process.stdout.write(`${link.url}\nvalid until ${link.expiresAt.toISOString()}\n`);
      }),
    );
  notify
    .command('parents-sheet')
    .description("a class's parents as an XLSX sheet to fill from the paper consent forms")
    .requiredOption('--class <id>', 'class id')
    .requiredOption('--out <file>', 'where to write the .xlsx')
    .action((o: { class: string; out: string }) =>
      withDatabase(async (db) => {
        await writeFile(o.out, await parentsTemplate(db.pool, o.class));
        process.stdout.write(`written ${o.out}\n`);
      }),
    );
  notify
    .command('parents-import')
    .description('import a filled parents sheet: contacts and consents; prints what was written and each rejected cell')
    .requiredOption('--class <id>', 'class id')
    .requiredOption('--file <file>', 'the filled .xlsx')
    .option('--by <who>', 'who recorded the consents', 'cli')
    .action((o: { class: string; file: string; by: string }) =>
      withDatabase(async (db) => {
        const result = await importParents(db.pool, systemClock, { classId: o.class, body: await readFile(o.file), actor: o.by });
        process.stdout.write(`${result.rows} rows: ${result.contacts} contacts, ${result.consentsGranted} consents recorded, ${result.consentsWithdrawn} withdrawn\n`);
        for (const r of result.rejected) process.stdout.write(`rejected ${r.cell}: ${r.reason}\n`);
        return result.rejected.length > 0 ? 1 : 0;
      }),
    );
  registerTelegramWebhookCommand(notify, withDatabase);
}

/** `notify telegram-webhook`: points a school's bot at this service's webhook (production: updates pushed, no polling). */
export function registerTelegramWebhookCommand(notify: Command, withDatabase: WithDatabase): void {
  notify
    .command('telegram-webhook')
    .description("register the school's bot webhook with Telegram: <public base URL>/v1/telegram/<provider id>/webhook, with its secret token; --off deletes it")
    .option('--school <id>', 'school id (default: the only school)')
    .option('--url <base>', 'the public https base URL of this service')
    .option('--off', 'delete the webhook (back to long polling)')
    .action((o: { school?: string; url?: string; off?: boolean }) =>
      withDatabase(async (db, config) => {
        const { rows } = await db.pool.query<{ id: string; config: Record<string, unknown>; secrets: Buffer | null }>(
          `SELECT id::text, config, secrets FROM notify_provider WHERE channel = 'telegram' AND enabled AND ($1::uuid IS NULL OR school_id = $1::uuid)`, [o.school ?? null]);
        if (rows.length !== 1) throw new ValidationError(rows.length === 0 ? 'no enabled Telegram bot (for this school)' : 'several schools have a bot: name one with --school');
        const provider = rows[0]!;
        const box = await loadSecretBox(config.CONNECTION_SECRETS_KEY, config.DATA_DIR, { external: config.DATABASE_URL !== undefined });
        const secrets = provider.secrets ? (box.open(provider.secrets) as Record<string, string>) : {};
        const bot = telegramBot(TelegramConfigSchema.parse(provider.config), secrets);
        if (o.off) {
          await bot.deleteWebhook();
          process.stdout.write('webhook deleted: set NOTIFY_TELEGRAM_UPDATES=polling\n');
          return;
        }
        if (!o.url || !/^https:\/\//.test(o.url)) throw new ValidationError('--url: the public https:// base URL of this service');
        const url = `${o.url.replace(/\/$/, '')}/v1/telegram/${provider.id}/webhook`;
        await bot.setWebhook({ url, secretToken: webhookSecretOf(secrets.token ?? '') });
        process.stdout.write(`webhook set to ${url}: set NOTIFY_TELEGRAM_UPDATES=webhook\n`);
      }),
    );
}

function printPath(items: readonly NotificationView[]): void {
  for (const n of items) {
    process.stdout.write(`${n.createdAt}  ${n.id}  ${n.kind.padEnd(16)} ${n.channel.padEnd(8)} ${(n.to ?? '').padEnd(18)} ${n.status.padEnd(9)} ${n.providerStatus ?? ''} ${n.reason ?? ''}\n`);
  }
}
