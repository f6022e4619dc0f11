import { area } from './define.js';

/** The deputy pages' texts (keys `deputy.…`). */
export const deputy = area({
}, {
});
