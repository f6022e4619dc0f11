import type { AdapterRegistry, AnyAdapter } from '../src/ports/adapter.js';
import { dnevnikru } from './dnevnikru/index.js';
import { netschool } from './netschool/index.js';

/** The platform adapters, one line each. */
export const adapters: AdapterRegistry = new Map<string, AnyAdapter>([
  [dnevnikru.id, dnevnikru],
  [netschool.id, netschool],
]);
