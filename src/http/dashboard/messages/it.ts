import { area } from './define.js';

/** The it pages' texts (keys `it.…`). */
export const it = area({
}, {
});
