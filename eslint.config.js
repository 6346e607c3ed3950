// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Pure layers (domain rules, the scheduler) must not know about transports or storage:
// they take plain data and return decisions, so they stay fast to test and easy to trust.
const pureLayerImports = {
  paths: [
    { name: 'express', message: 'domain/ and scheduler/ are transport-free; map in http/.' },
    { name: 'knex', message: 'domain/ and scheduler/ are storage-free; read and write in db/ or planner/.' },
    { name: 'ws', message: 'domain/ and scheduler/ are transport-free; the hub owns sockets.' },
    { name: 'pg', message: 'domain/ and scheduler/ are storage-free.' },
  ],
};

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'coverage/**', 'apps/*/bin/**', 'scripts/**', '.ci/**', 'examples/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Only config.ts (and the test helpers) read process.env; take settings from the config object.',
        },
      ],
    },
  },
  {
    files: ['apps/*/src/**/config.ts', 'apps/*/src/main.ts', 'apps/*/test/**', 'test/**', 'bench/**', 'vitest.config.ts', '**/*.test.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/src/domain/**/*.ts', '**/src/scheduler/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', pureLayerImports] },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
