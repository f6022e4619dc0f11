// The rendering thread's entry (render-thread.ts): plain JavaScript, so that a worker thread can load the
// TypeScript through tsx in any process — `node --import tsx` and the test runner alike.
import { tsImport } from 'tsx/esm/api';

await tsImport('./render-thread.ts', import.meta.url);
