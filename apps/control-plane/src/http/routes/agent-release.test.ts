import { createHash, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler, notFound } from '../middleware/errors';
import { agentReleaseRoutes, findInstallScript } from './agent-release';

const REPO_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../scripts/install-agent.sh');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function serve(deps: Parameters<typeof agentReleaseRoutes>[0]): Promise<{ url: string; server: Server }> {
  const app = express();
  app.set('query parser', 'simple');
  app.use(agentReleaseRoutes(deps));
  app.use(notFound);
  app.use(errorHandler(pino({ level: 'silent' })));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('agent release routes', () => {
  let dir: string;
  let url: string;
  let server: Server;
  const v1 = randomBytes(300_000);
  const NAME_V1 = 'karvon-agent-0.1.0-linux-amd64.tar.gz';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'karvon-agent-release-'));
    await writeFile(path.join(dir, NAME_V1), v1);
    ({ url, server } = await serve({ releaseDir: dir, logger: pino({ level: 'silent' }) }));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the installer script of this checkout as text, without auth', async () => {
    expect(findInstallScript()).toBe(REPO_SCRIPT);
    const res = await fetch(`${url}/agent/install.sh`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toBe(await readFile(REPO_SCRIPT, 'utf8'));
  });

  it('streams the tarball with its length, its SHA-256 as ETag, and answers a matching If-None-Match with 304', async () => {
    const res = await fetch(`${url}/agent/download?arch=amd64`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/gzip');
    expect(res.headers.get('content-length')).toBe(String(v1.length));
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${NAME_V1}"`);
    expect(res.headers.get('etag')).toBe(`"${sha256(v1)}"`);
    expect(Buffer.from(await res.arrayBuffer()).equals(v1)).toBe(true);

    // As curl sends it (fetch on its own would add `Cache-Control: no-cache`, which forbids a 304).
    const again = await fetch(`${url}/agent/download?arch=amd64`, { headers: { 'If-None-Match': `"${sha256(v1)}"`, 'Cache-Control': 'max-age=0' } });
    expect(again.status).toBe(304);
    const head = await fetch(`${url}/agent/download?arch=amd64`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(v1.length));
  });

  it('serves the checksum in sha256sum format', async () => {
    const res = await fetch(`${url}/agent/download.sha256?arch=amd64`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe(`${sha256(v1)}  ${NAME_V1}\n`);
  });

  it('serves a newer release packed while running, and its own checksum, without a restart', async () => {
    const v2 = randomBytes(1000);
    const name = 'karvon-agent-0.2.0-linux-amd64.tar.gz';
    await writeFile(path.join(dir, `${name}.tmp`), v2);
    await rename(path.join(dir, `${name}.tmp`), path.join(dir, name));
    expect(await (await fetch(`${url}/agent/download.sha256?arch=amd64`)).text()).toBe(`${sha256(v2)}  ${name}\n`);
    expect(Buffer.from(await (await fetch(`${url}/agent/download?arch=amd64`)).arrayBuffer()).equals(v2)).toBe(true);
    // Replaced in place under the same name: the cached checksum is not reused.
    const v3 = randomBytes(2000);
    await writeFile(path.join(dir, `${name}.tmp`), v3);
    await rename(path.join(dir, `${name}.tmp`), path.join(dir, name));
    expect(await (await fetch(`${url}/agent/download.sha256?arch=amd64`)).text()).toBe(`${sha256(v3)}  ${name}\n`);
    await rm(path.join(dir, name));
  });

  it('refuses a missing or unknown arch with 400 naming `arch`', async () => {
    for (const query of ['', '?arch=x86_64', '?arch=', '?arch=AMD64']) {
      for (const route of ['/agent/download', '/agent/download.sha256']) {
        const res = await fetch(`${url}${route}${query}`);
        expect(res.status, `${route}${query}`).toBe(400);
        const body = (await res.json()) as { error: { code: string; details: { fields: Array<{ path: string }> } } };
        expect(body.error.code).toBe('VALIDATION_FAILED');
        expect(body.error.details.fields.map((f) => f.path)).toEqual(['arch']);
      }
    }
  });

  it('answers an arch that was not packed with 404 NOT_FOUND saying how to pack it', async () => {
    for (const route of ['/agent/download', '/agent/download.sha256']) {
      const res = await fetch(`${url}${route}?arch=arm64`);
      expect(res.status).toBe(404);
      const body = (await res.json()) as { error: { code: string; message: string; details: { arch: string } } };
      expect(body.error.code).toBe('NOT_FOUND');
      expect(body.error.message).toContain('node scripts/pack-agent.mjs');
      expect(body.error.message).toContain('KARVON_AGENT_RELEASE_DIR');
      expect(body.error.details.arch).toBe('arm64');
    }
  });

  it('answers 404 when the release directory does not exist, or the script is missing', async () => {
    const other = await serve({ releaseDir: path.join(dir, 'nowhere'), logger: pino({ level: 'silent' }), installScript: path.join(dir, 'no-such-script.sh') });
    try {
      const download = await fetch(`${other.url}/agent/download?arch=amd64`);
      expect(download.status).toBe(404);
      expect(((await download.json()) as { error: { message: string } }).error.message).toContain('pack-agent.mjs');
      const script = await fetch(`${other.url}/agent/install.sh`);
      expect(script.status).toBe(404);
      expect(((await script.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    } finally {
      await new Promise((resolve) => other.server.close(resolve));
    }
  });
});
