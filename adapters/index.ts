import type { AdapterRegistry } from '../src/ports/adapter.js';

/**
 * The platform adapters, one line each. The platform adapters (Дневник.ру, NetSchool, edu.tatar.ru,
 * Kundoluk) arrive with their issues; until then the journal is fed by the demo source only.
 */
export const adapters: AdapterRegistry = new Map([]);
