/**
 * A notify worker in a process of its own (the crash and rate tests): the send queue's workers with the
 * settings given, and the sweeper every second. Prints "ready" once it takes jobs; stops on SIGTERM.
 * Usage: node --import tsx test/support/notify-child.ts <database url> <secret box key, base64> <settings JSON>
 */
import { createPool } from '../../src/db/pool.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import { NotifyEngine, type NotifySettings } from '../../src/notify/engine.js';

const [url, key, settings] = process.argv.slice(2) as [string, string, string];
const pool = createPool(url, 12);
const engine = await NotifyEngine.start(pool, systemClock, createLogger('warn'), new SecretBox(Buffer.from(key, 'base64')), JSON.parse(settings) as NotifySettings);
await engine.work();
await engine.schedule();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void engine.stop().then(() => pool.end()).then(() => process.exit(0));
});
