import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../apps/control-plane/src/config';
import { startControlPlane, type ControlPlaneOptions, type RunningControlPlane } from '../apps/control-plane/src/control-plane';
import { ApiClient } from './api-client';
import { createTestDatabase } from './database';

export interface TestControlPlane extends RunningControlPlane {
  /** stops this control plane (keeping its database and data dir) and starts a new one on the same port */
  restart(): Promise<TestControlPlane>;
  /** stops this control plane only (database and data dir kept); the returned function starts a new one on the same port */
  halt(): Promise<() => Promise<TestControlPlane>>;
  api: ApiClient;
  admin: { email: string; password: string };
  /** an ApiClient logged in as the admin */
  adminClient(): Promise<ApiClient>;
  dataDir: string;
  databaseUrl: string;
}

export const TEST_ADMIN = { email: 'admin@karvon.test', password: 'admin-password-123' };

/**
 * Starts a control plane in this process on a free port against a fresh database, with an admin
 * ensured. `env` adds or overrides settings (the same names as production).
 */
export async function startTestControlPlane(
  env: Record<string, string> = {},
  opts: Partial<ControlPlaneOptions> = {},
): Promise<TestControlPlane> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'karvon-cp-'));
  return launch(env, opts, database, dataDir);
}

async function launch(
  env: Record<string, string>,
  opts: Partial<ControlPlaneOptions>,
  database: { url: string; drop(): Promise<void> },
  dataDir: string,
): Promise<TestControlPlane> {
  const config = loadConfig({
    KARVON_PORT: '0',
    KARVON_HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    KARVON_DATA_DIR: dataDir,
    KARVON_ADMIN_EMAIL: TEST_ADMIN.email,
    KARVON_ADMIN_PASSWORD: TEST_ADMIN.password,
    KARVON_LOG_LEVEL: process.env.KARVON_TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const logger = pino({ level: config.logLevel });
  const cp = await startControlPlane(config, { logger, ...opts });
  const api = new ApiClient(cp.url);
  return {
    ...cp,
    api,
    admin: TEST_ADMIN,
    dataDir,
    databaseUrl: database.url,
    async adminClient() {
      const res = await api.login(TEST_ADMIN.email, TEST_ADMIN.password);
      if (res.status !== 200) throw new Error(`admin login failed: ${res.status}`);
      return api.as(res.body.accessToken);
    },
    async restart() {
      await cp.stop();
      return launch({ ...env, KARVON_PORT: String(cp.port) }, opts, database, dataDir);
    },
    async halt() {
      await cp.stop();
      return () => launch({ ...env, KARVON_PORT: String(cp.port) }, opts, database, dataDir);
    },
    async stop() {
      await cp.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
