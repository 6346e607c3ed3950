// A control plane for use outside vitest (the soak script): its own embedded PostgreSQL in a temp
// dir, the control plane in this process on a free port, restartable on the same port.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../apps/control-plane/src/config';
import { startControlPlane, type RunningControlPlane } from '../../apps/control-plane/src/control-plane';
import { startEmbeddedPostgres } from '../../apps/control-plane/src/db/embedded-postgres';
import { ApiClient } from '../api-client';
import { freePort } from '../free-port';

export const SOAK_ADMIN = { email: 'admin@karvon.test', password: 'admin-password-123' };

export interface StandaloneControlPlane {
  readonly url: string;
  readonly api: ApiClient;
  current(): RunningControlPlane;
  adminClient(): Promise<ApiClient>;
  /** graceful stop and a new control plane on the same port and database */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStandaloneControlPlane(env: Record<string, string>): Promise<StandaloneControlPlane> {
  // PostgreSQL runs as `postgres` when we are root: the cluster's own temp dir is made traversable
  // (startEmbeddedPostgres chmods it 711), so it is not nested in another 0700 temp dir.
  const pgDir = await mkdtemp(path.join(tmpdir(), 'karvon-soak-pg-'));
  const dataDir = await mkdtemp(path.join(tmpdir(), 'karvon-soak-cp-'));
  const removeDirs = () => Promise.all([rm(pgDir, { recursive: true, force: true }), rm(dataDir, { recursive: true, force: true })]);
  let db: Awaited<ReturnType<typeof startEmbeddedPostgres>>;
  try {
    db = await startEmbeddedPostgres({ dataDir: pgDir, port: await freePort() });
  } catch (e) {
    await removeDirs();
    throw e;
  }
  let port = 0;
  const launch = async () => {
    const config = loadConfig({
      KARVON_PORT: String(port),
      KARVON_HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      KARVON_DATA_DIR: dataDir,
      KARVON_ADMIN_EMAIL: SOAK_ADMIN.email,
      KARVON_ADMIN_PASSWORD: SOAK_ADMIN.password,
      KARVON_LOG_LEVEL: process.env.KARVON_SOAK_CP_LOG_LEVEL ?? 'silent',
      ...env,
    });
    const cp = await startControlPlane(config, { logger: pino({ level: config.logLevel }) });
    port = cp.port;
    return cp;
  };
  let cp: RunningControlPlane;
  try {
    cp = await launch();
  } catch (e) {
    await db.stop().catch(() => undefined);
    await removeDirs();
    throw e;
  }
  const api = new ApiClient(cp.url);
  return {
    url: cp.url,
    api,
    current: () => cp,
    async adminClient() {
      const res = await api.login(SOAK_ADMIN.email, SOAK_ADMIN.password);
      if (res.status !== 200) throw new Error(`admin login failed: ${res.status}`);
      return api.as(res.body.accessToken);
    },
    async restart() {
      await cp.stop();
      cp = await launch();
    },
    async stop() {
      await cp.stop().catch(() => undefined);
      await db.stop().catch(() => undefined);
      await removeDirs();
    },
  };
}
