import type { AdapterRegistry, AnyAdapter } from '../src/ports/adapter.js';
import { dnevnikru } from './dnevnikru/index.js';
import { edutatar } from './edutatar/index.js';
import { kundoluk } from './kundoluk/index.js';
import { netschool } from './netschool/index.js';

/** The platform adapters, one line each. */
export const adapters: AdapterRegistry = new Map<string, AnyAdapter>([
  [dnevnikru.id, dnevnikru],
  [edutatar.id, edutatar],
  [kundoluk.id, kundoluk],
  [netschool.id, netschool],
]);
