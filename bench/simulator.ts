import { adapters } from '../adapters/index.js';
import { generateSchool } from '../src/demo/generator.js';

/**
 * A platform simulator in a process of its own, so that the sync's time and memory are measured
 * apart from the platform's: `node --import tsx bench/simulator.ts <platform> <pupils>`. Prints one
 * JSON line with the connection config, then serves until killed.
 */
const [platform = 'dnevnikru', pupilsArg = '300'] = process.argv.slice(2);
const school = generateSchool({ seed: 2025, pupils: Number(pupilsArg), year: 2025 });
const adapter = adapters.get(platform);
if (!adapter) throw new Error(`no adapter ${platform}`);
const sim = await (await adapter.simulator()).start(school);
process.stdout.write(`${JSON.stringify({ ...sim.connectionConfig(), parallelPupils: 8 })}\n`);
