import { defineConfig } from 'vitest/config';

// Chromium aborts page loads with net::ERR_NETWORK_CHANGED when the host gains or loses an
// address, which Docker does whenever another test file creates a network or a container. The
// browser files therefore run as a group of their own, after every other file, and one at a
// time: panel-agent deploys a container, which must not land in another file's page load.
const BROWSER_FILES = ['apps/panel/test/**/*.int.test.ts'];

// Three extra dockerd for minutes: run on its own with `npm run test:multinode`.
const EXCLUDE = ['**/node_modules/**', '**/dist/**', ...(process.env.KARVON_MULTINODE === '1' ? [] : ['apps/agent/test/multinode.int.test.ts'])];

const TIMEOUTS = { testTimeout: 60_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    // Once for the run, here at the root: one PostgreSQL and one build that both projects share.
    globalSetup: ['./test/global-setup.ts'],
    // Integration files each get their own database; two workers match the two cores CI has.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'karvon',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/*.test.ts'],
          exclude: [...EXCLUDE, ...BROWSER_FILES],
          ...TIMEOUTS,
          sequence: { groupOrder: 0 },
        },
      },
      { test: { name: 'browser', include: BROWSER_FILES, ...TIMEOUTS, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
