// scripts/install-agent.sh for real, into a staged root (--prefix, as a packager's DESTDIR), on a
// host whose engine is already there (--docker=existing) and without systemd managing this root
// (--no-systemd), run as the admin API's installCommand says: `curl <cp>/agent/install.sh | bash`,
// the release tarball (scripts/pack-agent.mjs, in the control plane's KARVON_AGENT_RELEASE_DIR)
// downloaded from GET /agent/download and checked against GET /agent/download.sha256. The node
// registers, the agent started from that root comes online. A second run changes nothing and
// registers nothing; --uninstall removes what the first run wrote. A corrupted download, a
// tampered --bundle checksum and an architecture not packed are refused with nothing installed.
// (install-agent-root.int.test.ts does the same in a debootstrapped Debian root.)
import { execFile } from 'node:child_process';
import { cp as cp_r, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { staticConfigErrors } from '../apps/agent/src/routing/testing';
import { startTestControlPlane, type TestControlPlane } from './control-plane';
import { describeDocker } from './docker/engine';
import { eventually } from './eventually';
import { freePort } from './free-port';
import { corruptingProxy, outcome, runInstallCommand } from './install-agent-helpers';
import { REPO_ROOT, startProcess, type RunningProcess } from './processes';

const run = promisify(execFile);
const SCRIPT = path.join(REPO_ROOT, 'scripts/install-agent.sh');

/** Runs the installer from the checkout; resolves with its exit code and combined output. */
const installer = (args: string[]) => outcome('bash', [SCRIPT, ...args]);

/** Every entry under `dir` (recursive, relative), or [] when it does not exist. */
const entries = (dir: string) => readdir(dir, { recursive: true }).catch(() => [] as string[]);

/**
 * Every file under `dir` with its size, mtime and mode, to show a second run touched nothing. The
 * running agent's own state (desired state, proxy config) changes by itself and is left out.
 */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true })) {
    if (entry.startsWith('var/lib/karvon-agent/') && entry !== 'var/lib/karvon-agent/node.json') continue;
    const s = await stat(path.join(dir, entry));
    if (s.isFile()) out[entry] = `${s.size}:${s.mtimeMs}:${(s.mode & 0o777).toString(8)}`;
  }
  return out;
}

describe('install-agent.sh static checks', () => {
  it('passes shellcheck', async () => {
    const { stdout } = await run('shellcheck', ['--severity=style', SCRIPT]).catch((e: { stdout?: string; message: string }) => {
      throw new Error(`shellcheck: ${e.stdout ?? e.message}`);
    });
    expect(stdout).toBe('');
  });

  it('refuses unknown options and a missing control plane with a clear message', async () => {
    const bad = await installer(['--frobnicate']);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toContain('unknown option: --frobnicate');
    const unreachable = await installer(['--control-plane', `http://127.0.0.1:${await freePort()}`, '--token', 'kvj_x', '--prefix', await mkdtemp(path.join(tmpdir(), 'karvon-root-'))]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.output).toMatch(/the control plane at http:\/\/127\.0\.0\.1:\d+ does not answer/);
  });
});

await describeDocker('install-agent.sh into a staged root', () => {
  let cp: TestControlPlane;
  let work: string;
  let root: string;
  let tarball: string;
  let agent: RunningProcess | undefined;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'karvon-install-'));
    root = path.join(work, 'root');
    const releaseDir = path.join(work, 'release');
    const { stdout } = await run(process.execPath, ['scripts/pack-agent.mjs', '--out', releaseDir], { cwd: REPO_ROOT, timeout: 120_000 });
    tarball = stdout.split('\n')[0]!;
    expect(path.basename(tarball)).toMatch(/^karvon-agent-\d+\.\d+\.\d+-linux-(amd64|arm64)\.tar\.gz$/);
    // The public URL is the real one, so installCommand works as printed.
    const port = await freePort();
    cp = await startTestControlPlane({ KARVON_PORT: String(port), KARVON_PUBLIC_URL: `http://127.0.0.1:${port}`, KARVON_AGENT_RELEASE_DIR: releaseDir });
    const admin = await cp.adminClient();
    expect((await admin.post('/api/v1/admin/regions', { id: 'install-test', name: 'Install test' })).status).toBe(201);
  }, 180_000);

  const issueToken = async () => {
    const admin = await cp.adminClient();
    const issued = await admin.post<{ token: string; installCommand: string }>('/api/v1/admin/node-tokens', { region: 'install-test', labels: ['builder'] });
    expect(issued.status).toBe(201);
    return issued.body;
  };
  const nodesInRegion = async () => {
    const nodes = await (await cp.adminClient()).get<{ items: Array<{ region: string }> }>('/api/v1/admin/nodes');
    return nodes.body.items.filter((n) => n.region === 'install-test').length;
  };

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await cp?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('refuses a download corrupted on its way, installing nothing and registering nothing', async () => {
    const proxy = await corruptingProxy(cp.url);
    try {
      const { installCommand } = await issueToken();
      const through = installCommand.replaceAll(cp.url, proxy.url);
      const staged = path.join(work, 'corrupted-root');
      const refused = await runInstallCommand(through, ['--name', 'corrupted', '--prefix', staged, '--docker=existing', '--no-systemd']);
      expect(refused.code, refused.output).toBe(1);
      expect(refused.output).toMatch(/agent release checksum mismatch \(expected [0-9a-f]{64}, got [0-9a-f]{64}\).*nothing was installed/);
      expect(await entries(staged)).toEqual([]);
      expect(await nodesInRegion()).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('refuses a --bundle whose .sha256 does not match it', async () => {
    const copy = path.join(work, 'tampered', path.basename(tarball));
    await mkdir(path.dirname(copy), { recursive: true });
    await writeFile(copy, await readFile(tarball));
    await writeFile(`${copy}.sha256`, `${'0'.repeat(64)}  ${path.basename(tarball)}\n`);
    const staged = path.join(work, 'tampered-root');
    const refused = await installer(['--control-plane', cp.url, '--token', 'kvj_unused', '--bundle', copy, '--prefix', staged, '--docker=existing', '--no-systemd']);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toContain(`agent release checksum mismatch (expected ${'0'.repeat(64)}`);
    expect(await entries(staged)).toEqual([]);
  });

  it('says how to pack a release when the control plane has none for this architecture', async () => {
    const { installCommand } = await issueToken();
    const aside = `${tarball}.aside`;
    await rename(tarball, aside);
    try {
      const staged = path.join(work, 'unpacked-root');
      const refused = await runInstallCommand(installCommand, ['--prefix', staged, '--docker=existing', '--no-systemd']);
      expect(refused.code, refused.output).toBe(1);
      expect(refused.output).toMatch(/GET http:\S+\/agent\/download\?arch=(amd64|arm64) answered HTTP 404: no agent release for (amd64|arm64).*node scripts\/pack-agent\.mjs/);
      expect(await entries(staged)).toEqual([]);
    } finally {
      await rename(aside, tarball);
    }
  });

  it('installs via curl | bash from the control plane, registers, writes a valid Traefik config and units; the agent from that root comes online', async () => {
    const admin = await cp.adminClient();
    const issued = await issueToken();
    // The script takes exactly the options the API's installCommand passes.
    expect(issued.installCommand).toBe(`curl -fsSL ${cp.url}/agent/install.sh | sudo bash -s -- --control-plane ${cp.url} --token ${issued.token}`);
    const options = ['--name', 'staged', '--prefix', root, '--docker=existing', '--no-systemd'];
    const first = await runInstallCommand(issued.installCommand, options);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain(`downloading the agent from ${cp.url}/agent/download?arch=`);
    const published = (await readFile(`${tarball}.sha256`, 'utf8')).split(' ')[0]!;
    expect(first.output).toContain(`agent release checksum ok (${published})`);
    expect((await readFile(path.join(root, 'opt/karvon-agent/.release-sha256'), 'utf8')).trim()).toBe(published);
    expect(first.output).toMatch(/registered: node_[a-z0-9]{20}/);

    const traefik = parseYaml(await readFile(path.join(root, 'etc/karvon/traefik.yml'), 'utf8')) as { providers: { file: { directory: string } } };
    expect(staticConfigErrors(traefik)).toEqual([]);
    expect(traefik.providers.file.directory).toBe('/var/lib/karvon-agent/proxy');
    expect(await readFile(path.join(root, 'etc/karvon/agent.env'), 'utf8')).toContain('KARVON_PROXY_DIR=/var/lib/karvon-agent/proxy');
    const identity = JSON.parse(await readFile(path.join(root, 'var/lib/karvon-agent/node.json'), 'utf8')) as { nodeId: string };
    expect((await stat(path.join(root, 'var/lib/karvon-agent/node.json'))).mode & 0o777).toBe(0o600);
    for (const unit of ['karvon-agent.service', 'karvon-traefik.service']) {
      expect(await readFile(path.join(root, 'etc/systemd/system', unit), 'utf8')).toBe(await readFile(path.join(REPO_ROOT, 'systemd', unit), 'utf8'));
    }
    // The units verify in the installed root: the agent's ExecStart names a file the release put
    // there. What the host brings (docker.io's unit, a Traefik binary) is stood in for in a copy.
    const verifyRoot = path.join(work, 'verify-root');
    await cp_r(root, verifyRoot, { recursive: true });
    // The host's own units (targets, sockets) resolve the dependencies; docker.io's unit may be absent.
    await cp_r('/lib/systemd/system', path.join(verifyRoot, 'lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
    await writeFile(path.join(verifyRoot, 'lib/systemd/system/docker.service'), '[Service]\nExecStart=/bin/true\n', { flag: 'wx' }).catch(() => undefined);
    await mkdir(path.join(verifyRoot, 'usr/local/bin'), { recursive: true });
    await writeFile(path.join(verifyRoot, 'usr/local/bin/traefik'), '#!/bin/sh\n', { mode: 0o755 });
    for (const unit of ['karvon-agent.service', 'karvon-traefik.service']) {
      const verified = await run('systemd-analyze', ['verify', `--root=${verifyRoot}`, `/etc/systemd/system/${unit}`]).then(
        (r) => r.stderr,
        (e: { stderr: string }) => `failed: ${e.stderr}`,
      );
      expect(verified, unit).not.toMatch(/karvon|failed/);
    }
    const cpUnit = await run('systemd-analyze', ['verify', path.join(REPO_ROOT, 'systemd/karvon-control-plane.service')]).then(
      (r) => r.stderr,
      (e: { stderr: string }) => `failed: ${e.stderr}`,
    );
    expect(cpUnit).not.toMatch(/karvon|failed/);

    const challengePort = await freePort();
    agent = startProcess(path.join(root, 'opt/karvon-agent/bin/karvon-agent'), ['run', '--state-dir', path.join(root, 'var/lib/karvon-agent')], {
      KARVON_CHALLENGE_PORT: String(challengePort),
      KARVON_PORT_RANGE: '29100-29199',
      KARVON_LOG_LEVEL: 'warn',
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
    });
    await eventually(async () => {
      const node = await admin.get<{ status: string; name: string }>(`/api/v1/admin/nodes/${identity.nodeId}`);
      expect(node.body).toMatchObject({ status: 'online', name: 'staged' });
    }, 60_000, 250);

    // The same command again (its token now used): it repairs nothing, downloads the same release.
    const before = await snapshot(root);
    const second = await runInstallCommand(issued.installCommand, options);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain('not registering again');
    expect(second.output).toContain('agent release already installed');
    expect(second.output).not.toMatch(/wrote:/);
    expect(await snapshot(root)).toEqual(before);
    expect(await nodesInRegion()).toBe(1);

    agent.kill('SIGTERM');
    await agent.exited;
    const removed = await runInstallCommand(issued.installCommand.replace(/ --control-plane .*$/, ''), ['--uninstall', '--prefix', root, '--no-systemd']);
    expect(removed.code, removed.output).toBe(0);
    const left = await readdir(root, { recursive: true });
    expect(left.filter((e) => !['etc', 'etc/systemd', 'etc/systemd/system', 'opt', 'var', 'var/lib'].includes(e))).toEqual([]);
  }, 300_000);
});
