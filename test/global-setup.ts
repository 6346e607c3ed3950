// One PostgreSQL for the whole test run: an embedded cluster in a temp dir, or the server named by
// KARVON_TEST_DATABASE_URL. Each test file then creates its own database (see test/database.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../apps/control-plane/src/db/embedded-postgres';
import { freePort } from './free-port';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Process tests run the real bins (apps/*/bin → dist); the bundle takes well under a second.
  await import('../scripts/build.mjs');
  const external = process.env.KARVON_TEST_DATABASE_URL;
  if (external) {
    project.provide('adminDatabaseUrl', external);
    return () => Promise.resolve();
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'karvon-test-pg-'));
  const db = await startEmbeddedPostgres({ dataDir: dir, port: await freePort() });
  project.provide('adminDatabaseUrl', db.url);
  return async () => {
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
