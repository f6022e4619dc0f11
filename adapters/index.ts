import type { AdapterRegistry } from '../src/ports/adapter.js';
import { dnevnikru } from './dnevnik/index.js';

/** The platform adapters, one line each. */
export const adapters: AdapterRegistry = new Map([
  [dnevnikru.id, dnevnikru],
]);
