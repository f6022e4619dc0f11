/** The it pages (see nav.ts for their paths): src/http/dashboard/pages/it/. */
export { registerItPages } from './it/index.js';
