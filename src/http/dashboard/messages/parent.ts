import { area } from './define.js';

/** The parent pages' texts (keys `parent.…`). */
export const parent = area({
}, {
});
