import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/*.test.ts'],
    // Three extra dockerd for minutes: run on its own with `npm run test:multinode`.
    exclude: ['**/node_modules/**', '**/dist/**', ...(process.env.KARVON_MULTINODE === '1' ? [] : ['apps/agent/test/multinode.int.test.ts'])],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration files each get their own database; two workers match the two cores CI has.
    pool: 'forks',
    maxWorkers: 2,
  },
});
