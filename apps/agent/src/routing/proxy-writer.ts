// The one place that writes the proxy dir. Order matters because Traefik watches it and reloads on
// every event: new certificate files first, then the config that names them, then removal of the
// files no config names any more. Traefik therefore never reads a config naming a missing file.
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../state/atomic-file';
import type { RenderedRouting } from './dynamic-config';
import { serializeDynamicConfig } from './render-file';
import { CERTIFICATES_DIR, DYNAMIC_CONFIG_FILE } from './traefik-names';

export interface ProxyWriteResult {
  configChanged: boolean;
  certificatesWritten: number;
  filesRemoved: number;
}

export function createProxyWriter(deps: { proxyDir: string; logger: Logger }) {
  const configFile = path.join(deps.proxyDir, DYNAMIC_CONFIG_FILE);
  const certificatesDir = path.join(deps.proxyDir, CERTIFICATES_DIR);

  async function write(rendered: RenderedRouting): Promise<ProxyWriteResult> {
    // Readable by a Traefik running as another user; the keys themselves are 0600.
    await mkdir(certificatesDir, { recursive: true, mode: 0o755 });
    const wanted = new Set<string>();
    let certificatesWritten = 0;
    for (const f of rendered.certificateFiles) {
      if (path.dirname(f.certFile) !== certificatesDir || path.dirname(f.keyFile) !== certificatesDir) {
        throw new Error(`certificate files must be in ${certificatesDir}`);
      }
      wanted.add(path.basename(f.certFile)).add(path.basename(f.keyFile));
      // Names carry a hash of the content and each file is replaced atomically, so an existing
      // file already holds exactly this content.
      if (!(await exists(f.keyFile))) {
        await writeFileAtomic(f.keyFile, f.privateKeyPem, 0o600);
        certificatesWritten += 1;
      }
      if (!(await exists(f.certFile))) await writeFileAtomic(f.certFile, f.certificatePem, 0o644);
    }
    const text = serializeDynamicConfig(rendered.config);
    const previous = await readFile(configFile, 'utf8').catch(() => undefined);
    // An unchanged config is not rewritten: every write makes Traefik reload.
    const configChanged = previous !== text;
    if (configChanged) await writeFileAtomic(configFile, text, 0o644);
    let filesRemoved = 0;
    for (const name of await readdir(certificatesDir)) {
      const ours = name.endsWith('.crt') || name.endsWith('.key') || (name.startsWith('.') && name.endsWith('.tmp'));
      if (!ours || wanted.has(name)) continue;
      await unlink(path.join(certificatesDir, name)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      filesRemoved += 1;
    }
    if (configChanged || certificatesWritten > 0 || filesRemoved > 0) {
      deps.logger.info({ configFile, configChanged, certificatesWritten, filesRemoved }, 'proxy config written');
    }
    return { configChanged, certificatesWritten, filesRemoved };
  }

  return { configFile, certificatesDir, write };
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

export type ProxyWriter = ReturnType<typeof createProxyWriter>;
