// The quickstart's admin: KARVON_ADMIN_EMAIL/PASSWORD when set, else the login generated on the
// first start and kept 0600 in the data dir. The control plane is started with it in its
// environment, so it ensures the account itself (config.ts, auth/users.ts ensureAdmin).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const ADMIN_FILE = 'quickstart-admin.json';
const GENERATED_EMAIL = 'admin@karvon.localhost';

/**
 * @param {Record<string, string | undefined>} env
 * @param {string} dataDir
 * @returns {Promise<{ email: string, password: string, source: 'environment' | 'saved' | 'generated', file: string }>}
 */
export async function resolveAdminLogin(env, dataDir) {
  const file = path.join(dataDir, ADMIN_FILE);
  const email = env.KARVON_ADMIN_EMAIL?.trim();
  const password = env.KARVON_ADMIN_PASSWORD?.trim();
  // Half of a pair is the control plane's error to report (it lists every bad setting at once).
  if (email || password) return { email: email ?? '', password: password ?? '', source: 'environment', file };
  try {
    const saved = JSON.parse(await readFile(file, 'utf8'));
    if (typeof saved.email === 'string' && typeof saved.password === 'string') return { ...saved, source: 'saved', file };
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'ENOENT') throw e;
  }
  const generated = { email: GENERATED_EMAIL, password: randomBytes(18).toString('base64url') };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // 'wx': two quickstarts racing on one data dir must not end with two different passwords.
  await writeFile(file, JSON.stringify(generated, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  return { ...generated, source: 'generated', file };
}
