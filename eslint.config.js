// ESLint: typescript-eslint's recommended rules plus the project's dependency rules (ARCHITECTURE.md):
// adapters import only src/ports (their simulator*.ts files also the demo generator and Express); only the data
// layer (src/db) imports the Prisma client; only src/config.ts reads process.env.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const prismaOnlyInDb = {
  paths: [
    { name: '@prisma/client', message: 'Only the data layer (src/db) uses Prisma.' },
    { name: '@prisma/adapter-pg', message: 'Only the data layer (src/db) uses Prisma.' },
  ],
  patterns: [{ group: ['**/generated/prisma/**', '**/db/generated/**'], message: 'Only the data layer (src/db) uses Prisma.' }],
};

const adapterRule = (allowDemo) => ({
  paths: [
    { name: 'pg', message: 'Adapters never touch the database.' },
    { name: '@prisma/client', message: 'Adapters never touch the database.' },
    ...(allowDemo ? [] : [{ name: 'express', message: 'Only an adapter\'s simulator.ts serves HTTP.' }]),
  ],
  patterns: [
    {
      regex: allowDemo ? '^(\\.\\./)+src/(?!ports/|demo/)' : '^(\\.\\./)+src/(?!ports/)',
      message: 'adapters/** may import only src/ports/** (and a simulator the demo generator).',
    },
  ],
});

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
    files: ['src/**/*.ts'],
    ignores: ['src/db/**'],
    rules: { 'no-restricted-imports': ['error', prismaOnlyInDb] },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through src/config.ts.' }],
    },
  },
  { files: ['adapters/**/*.ts'], ignores: ['adapters/**/simulator*.ts'], rules: { 'no-restricted-imports': ['error', adapterRule(false)] } },
  { files: ['adapters/**/simulator*.ts'], rules: { 'no-restricted-imports': ['error', adapterRule(true)] } },
);
