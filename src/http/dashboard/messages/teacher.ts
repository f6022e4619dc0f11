import { area } from './define.js';

/** The teacher pages' texts (keys `teacher.…`). */
export const teacher = area({
}, {
});
