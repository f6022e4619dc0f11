// Jest loads global setup outside its module system (no TypeScript, no .js → .ts mapping); tsx does both.
import { tsImport } from 'tsx/esm/api';

export default async function setup() {
  const { default: run } = await tsImport('./global-setup.ts', import.meta.url);
  await run();
}
