// What a new server fetches to become a node (the admin API's installCommand): the installer
// script, and the agent release tarball with its checksum. Public: neither carries a secret; the
// registration token travels on the installer's command line, never in these responses.
import { existsSync } from 'node:fs';
import { open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { Router, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DomainError } from '../../domain/errors';
import { createReleaseChecksums } from '../agent-release-checksums';
import { AGENT_ARCHES, pickRelease, type AgentArch, type AgentRelease } from '../agent-release-pick';
import type { RouteDoc } from '../openapi';
import { parseInput } from '../validate';

export interface AgentReleaseDeps {
  /** KARVON_AGENT_RELEASE_DIR: pack-agent's tarballs, read at each request (packing needs no restart) */
  releaseDir: string;
  logger: Logger;
  /** scripts/install-agent.sh; found next to this module (source or bundle) when not given */
  installScript?: string;
}

const archQuery = z.object({ arch: z.enum(AGENT_ARCHES).describe('the server\'s architecture, as `dpkg --print-architecture` names it') });

/** scripts/install-agent.sh of the checkout (or release) this control plane runs from. */
export function findInstallScript(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'scripts', 'install-agent.sh');
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return undefined;
}

const notPacked = (arch: AgentArch) =>
  `no agent release for ${arch} on this control plane: its operator makes one with \`node scripts/pack-agent.mjs\` ` +
  `on an ${arch} machine (or with --arch ${arch} --node FILE), into the control plane's KARVON_AGENT_RELEASE_DIR`;

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

/** `p`, with a missing file as undefined (anything else still throws). */
async function unlessMissing<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

export function agentReleaseRoutes(deps: AgentReleaseDeps): Router {
  const r = Router();
  const checksums = createReleaseChecksums();
  const script = deps.installScript ?? findInstallScript();

  /** The newest release for `arch`, opened; the caller closes `handle`. */
  async function openRelease(arch: AgentArch): Promise<{ release: AgentRelease; handle: FileHandle; stats: Stats; sha256: string }> {
    const release = pickRelease((await unlessMissing(readdir(deps.releaseDir))) ?? [], arch);
    const file = release && path.join(deps.releaseDir, release.fileName);
    // Removed between the listing and here: as if it had never been packed.
    const handle = file === undefined ? undefined : await unlessMissing(open(file, 'r'));
    if (!release || file === undefined || !handle) {
      deps.logger.warn({ arch, releaseDir: deps.releaseDir }, 'agent release asked for but not packed');
      throw new DomainError('NOT_FOUND', notPacked(arch), { arch });
    }
    try {
      const stats = await handle.stat();
      return { release, handle, stats, sha256: await checksums.of(file, handle, stats) };
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  const revalidate = (res: Response) => res.setHeader('Cache-Control', 'no-cache');

  r.get('/agent/install.sh', async (_req, res) => {
    const body = script === undefined ? undefined : await unlessMissing(readFile(script, 'utf8'));
    if (body === undefined || body === '') throw new DomainError('NOT_FOUND', 'the installer (scripts/install-agent.sh) is not installed next to this control plane');
    // text/plain, not a shell type: a person can read it in a browser before piping it to bash.
    revalidate(res);
    res.type('text/plain').send(body);
  });

  r.get('/agent/download', async (req, res) => {
    const { arch } = parseInput(archQuery, req.query, 'query');
    const { release, handle, stats, sha256 } = await openRelease(arch);
    let streaming = false;
    try {
      res.setHeader('Content-Type', 'application/gzip');
      res.setHeader('Content-Length', String(stats.size));
      res.setHeader('Content-Disposition', `attachment; filename="${release.fileName}"`);
      res.setHeader('ETag', `"${sha256}"`);
      revalidate(res);
      if (req.fresh) {
        res.status(304).end();
        return;
      }
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      streaming = true;
      await pipeline(handle.createReadStream({ start: 0 }), res).catch((e: unknown) => {
        // The client went away mid-download (or the disk failed): nothing more can be said to it.
        deps.logger.debug({ err: e, file: release.fileName }, 'agent download ended early');
        res.destroy();
      });
    } finally {
      // The read stream closes the handle itself once it has been started.
      if (!streaming) await handle.close();
    }
  });

  r.get('/agent/download.sha256', async (req, res) => {
    const { arch } = parseInput(archQuery, req.query, 'query');
    const { release, handle, sha256 } = await openRelease(arch);
    await handle.close();
    revalidate(res);
    // `sha256sum` format: verifiable with `sha256sum -c` next to the downloaded file.
    res.type('text/plain').send(`${sha256}  ${release.fileName}\n`);
  });

  return r;
}

const notPackedDoc = { description: 'no release for this architecture has been packed (NOT_FOUND, with an actionable message)' };

export const agentReleaseRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/agent/install.sh',
    root: true,
    summary: 'The agent installer script (the admin API\'s installCommand pipes it to bash)',
    auth: 'public',
    responses: { 200: { description: 'scripts/install-agent.sh, as text/plain', contentType: 'text/plain' }, 404: { description: 'the script is not installed (NOT_FOUND)' } },
  },
  {
    method: 'get',
    path: '/agent/download',
    root: true,
    summary: 'The newest agent release tarball for an architecture (self-contained, its own Node.js)',
    auth: 'public',
    query: archQuery,
    responses: {
      200: { description: 'karvon-agent-<version>-linux-<arch>.tar.gz; ETag is its quoted SHA-256', contentType: 'application/gzip' },
      304: { description: 'If-None-Match named the current release' },
      400: { description: '`arch` missing or not amd64/arm64 (VALIDATION_FAILED)' },
      404: notPackedDoc,
    },
  },
  {
    method: 'get',
    path: '/agent/download.sha256',
    root: true,
    summary: 'The SHA-256 of what GET /agent/download serves, in `sha256sum` format',
    auth: 'public',
    query: archQuery,
    responses: {
      200: { description: '`<hex>  <file name>\\n`', contentType: 'text/plain' },
      400: { description: '`arch` missing or not amd64/arm64 (VALIDATION_FAILED)' },
      404: notPackedDoc,
    },
  },
];
