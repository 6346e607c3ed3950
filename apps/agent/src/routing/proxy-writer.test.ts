import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Certificate, Route } from '@karvon/protocol';
import { renderDynamicConfig } from './dynamic-config';
import { createProxyWriter } from './proxy-writer';
import { dynamicConfigErrors, selfSignedCertificate } from './testing';

const logger = pino({ level: 'silent' });
const pairA = selfSignedCertificate(['a.example.com']);
const pairB = selfSignedCertificate(['b.example.com']);
const cert = (id: string, hostname: string, pair: typeof pairA): Certificate => ({ id, hostnames: [hostname], ...pair, notAfter: '2030-01-01T00:00:00Z' });
const routes: Route[] = [
  { hostname: 'a.example.com', appId: 'app_a', tls: true, upstreams: [{ address: '127.0.0.1:20000', local: true }] },
  { hostname: 'b.example.com', appId: 'app_b', tls: true, upstreams: [] },
];

describe('proxy writer', () => {
  let proxyDir: string;
  let writer: ReturnType<typeof createProxyWriter>;
  const render = (certificates: Certificate[]) =>
    renderDynamicConfig({ routes, certificates, allocations: [], agentUpstream: '127.0.0.1:8089', certificatesDir: writer.certificatesDir });

  beforeEach(async () => {
    proxyDir = path.join(await mkdtemp(path.join(tmpdir(), 'karvon-proxy-')), 'proxy');
    writer = createProxyWriter({ proxyDir, logger });
  });
  afterEach(() => rm(path.dirname(proxyDir), { recursive: true, force: true }));

  it('writes the config and the certificate files it names (keys 0600), leaving no temp file', async () => {
    const rendered = render([cert('c_a', 'a.example.com', pairA), cert('c_b', 'b.example.com', pairB)]);
    expect(await writer.write(rendered)).toEqual({ configChanged: true, certificatesWritten: 2, filesRemoved: 0 });
    const config = parseYaml(await readFile(writer.configFile, 'utf8')) as unknown;
    expect(dynamicConfigErrors(config)).toEqual([]);
    expect(config).toEqual(JSON.parse(JSON.stringify(rendered.config)));
    for (const f of rendered.certificateFiles) {
      expect(await readFile(f.certFile, 'utf8')).toBe(f.certificatePem);
      expect(await readFile(f.keyFile, 'utf8')).toBe(f.privateKeyPem);
      expect((await stat(f.keyFile)).mode & 0o777).toBe(0o600);
      expect((await stat(f.certFile)).mode & 0o777).toBe(0o644);
    }
    expect((await readdir(proxyDir)).sort()).toEqual(['certs', 'karvon.yml']);
    expect((await readdir(writer.certificatesDir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('does not rewrite an unchanged config (every write makes Traefik reload)', async () => {
    await writer.write(render([cert('c_a', 'a.example.com', pairA)]));
    const before = (await stat(writer.configFile)).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    expect(await writer.write(render([cert('c_a', 'a.example.com', pairA)]))).toEqual({ configChanged: false, certificatesWritten: 0, filesRemoved: 0 });
    expect((await stat(writer.configFile)).mtimeMs).toBe(before);
  });

  it('removes the files of certificates no longer desired, and of a replaced (renewed) one, after the new config', async () => {
    const first = render([cert('c_a', 'a.example.com', pairA), cert('c_b', 'b.example.com', pairB)]);
    await writer.write(first);
    await writeFile(path.join(writer.certificatesDir, '.x.key.abc.tmp'), 'left by a crash');
    const renewed = render([cert('c_a', 'a.example.com', pairB)]);
    expect(await writer.write(renewed)).toMatchObject({ configChanged: true, certificatesWritten: 1, filesRemoved: 5 });
    const names = (await readdir(writer.certificatesDir)).sort();
    expect(names).toEqual(renewed.certificateFiles.flatMap((f) => [path.basename(f.certFile), path.basename(f.keyFile)]).sort());
    expect(await readFile(writer.configFile, 'utf8')).not.toContain(path.basename(first.certificateFiles[0]!.certFile));
  });

  it('a write that fails leaves the previous config in place', async () => {
    await writer.write(render([cert('c_a', 'a.example.com', pairA)]));
    const previous = await readFile(writer.configFile, 'utf8');
    const bad = render([cert('c_b', 'b.example.com', pairB)]);
    bad.certificateFiles[0]!.keyFile = path.join(proxyDir, '..', 'escaped.key');
    await expect(writer.write(bad)).rejects.toThrow(/must be in/);
    expect(await readFile(writer.configFile, 'utf8')).toBe(previous);
    // And a certificates dir that cannot be written to (here: a file in its place) also keeps it.
    await rm(writer.certificatesDir, { recursive: true });
    await writeFile(writer.certificatesDir, 'not a dir');
    await expect(writer.write(render([cert('c_b', 'b.example.com', pairB)]))).rejects.toThrow();
    expect(await readFile(writer.configFile, 'utf8')).toBe(previous);
  });

  it('leaves files that are not its own in the certificates dir', async () => {
    await mkdir(writer.certificatesDir, { recursive: true });
    await writeFile(path.join(writer.certificatesDir, 'README'), 'operator note');
    await writer.write(render([]));
    expect(await readdir(writer.certificatesDir)).toEqual(['README']);
  });
});
