/**
 * A consumer of the event feed in a process of its own, for the kill -9 test: each batch of 5 events
 * writes one row per event into `feed_effect` and takes a moment, in the transaction that advances
 * its cursor. Usage: node --import tsx test/support/feed-child.ts <database url> <school id>
 */
import { createPool } from '../../src/db/pool.js';
import { drainConsumer } from '../../src/journal/feed.js';

const [url, schoolId] = process.argv.slice(2) as [string, string];
const pool = createPool(url, 2);
const handled = await drainConsumer(pool, {
  name: 'kill-test', batchSize: 5,
  handle: async (client, school, events) => {
    await client.query('INSERT INTO feed_effect (school_id, seq) SELECT $1, unnest($2::bigint[])', [school, events.map((e) => e.seq)]);
    await client.query('SELECT pg_sleep(0.3)');
    process.stdout.write(`batch ${events[events.length - 1]!.seq}\n`);
  },
}, schoolId);
process.stdout.write(`done ${handled}\n`);
await pool.end();
