// ESLint: typescript-eslint's recommended rules plus the dependency rules of ARCHITECTURE.md, enforced by
// path zones (eslint-plugin-boundaries resolves every import to the file or package it names, so no
// spelling of a path gets around a rule): src/ports is a leaf; an adapter imports only src/ports, its own
// folder and its own libraries (never another adapter, axios, pg, pg-boss, Prisma, ws or Express; its
// simulator*.ts files may also use the demo generator, Express and ws); only src/db touches Prisma; the
// HTTP layer does not import pg; only src/config.ts reads process.env. test/unit/boundaries.test.ts lints
// deliberate violations through this file, so a rule that fails open is caught.
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

const element = (type, captured) => ({ element: captured ? { type, captured } : { type } });
const modules = (...sources) => sources.map((source) => ({ origin: 'external', source }));
const fromAdapter = { element: { type: 'platform' } };
const fromSimulator = { element: { type: 'platform' }, file: { categories: 'simulator' } };

const policies = [
  // src/ports is what adapters see: it depends on nothing of the project, and of packages only on zod.
  { from: element('ports'), disallow: { to: [element('platform'), element('layer'), element('db'), element('prisma'), element('http')] } },
  { from: element('ports'), disallow: { to: { module: { origin: 'external', source: '!zod' } } } },
  // Adapters: src/ports and their own folder; never another adapter or a service layer.
  { from: fromAdapter, disallow: { to: element('platform', { platform: '!{{ from.element.captured.platform }}' }) } },
  { from: fromAdapter, disallow: { to: [element('layer'), element('db'), element('prisma'), element('http')] } },
  { from: fromAdapter, disallow: { to: { module: modules('axios', 'pg', 'pg-boss', 'pg-copy-streams', '@prisma/*', 'prisma', 'ws', 'express', 'node-cron') } } },
  // A simulator serves the demo school over HTTP (and NetSchool's hub over a WebSocket).
  { from: fromSimulator, allow: { to: [element('layer', { layer: 'demo' }), { module: modules('express', 'ws') }] } },
  // The registry names every adapter.
  { from: { file: { categories: 'registry' } }, allow: { to: element('platform') } },
  // Only the data layer holds Prisma; the HTTP layer goes through services, not SQL drivers.
  { from: { element: { types: { noneOf: ['db', 'prisma'] } } }, disallow: { to: [element('prisma'), { module: modules('@prisma/*', 'prisma') }] } },
  { from: element('http'), disallow: { to: { module: modules('pg', 'pg-boss', 'pg-copy-streams') } } },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'src/db/generated/', 'src/http/openapi.ts', 'coverage/', '.data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', performance: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts', 'adapters/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { [new URL('./scripts/eslint-resolver.cjs', import.meta.url).pathname]: {} },
      'boundaries/elements': [
        { type: 'ports', pattern: 'src/ports' },
        { type: 'prisma', pattern: 'src/db/generated' },
        { type: 'db', pattern: 'src/db' },
        { type: 'http', pattern: 'src/http' },
        { type: 'layer', pattern: 'src/*', capture: ['layer'] },
        { type: 'platform', pattern: 'adapters/*', capture: ['platform'] },
      ],
      'boundaries/files': [
        { category: 'simulator', pattern: 'adapters/*/simulator*.ts' },
        { category: 'registry', pattern: 'adapters/index.ts' },
      ],
    },
    rules: { 'boundaries/dependencies': ['error', { default: 'allow', checkAllOrigins: true, policies }] },
  },
  {
    // The dashboard's browser scripts (served as they are, no build step).
    files: ['src/http/dashboard/assets/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { window: 'readonly', document: 'readonly', DOMParser: 'readonly', uPlot: 'readonly', htmx: 'readonly', getComputedStyle: 'readonly', ResizeObserver: 'readonly', matchMedia: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', exports: 'writable', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/**/*.ts', 'adapters/**/*.ts'],
    ignores: ['src/config.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through src/config.ts.' }],
    },
  },
);
