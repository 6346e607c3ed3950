// scripts/install-agent.sh for real, into a staged root (--prefix, as a packager's DESTDIR), on a
// host whose engine is already there (--docker=existing) and without systemd managing this root
// (--no-systemd): the release tarball from scripts/pack-agent.mjs is installed, the node registers
// against a running control plane, the agent started from that root comes online. A second run
// changes nothing and registers nothing; --uninstall removes what the first run wrote.
import { execFile } from 'node:child_process';
import { cp as cp_r, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { staticConfigErrors } from '../apps/agent/src/routing/testing';
import { startTestControlPlane, type TestControlPlane } from './control-plane';
import { describeDocker } from './docker/engine';
import { freePort } from './free-port';
import { REPO_ROOT, startProcess, type RunningProcess } from './processes';

const run = promisify(execFile);
const SCRIPT = path.join(REPO_ROOT, 'scripts/install-agent.sh');

/** Runs the installer; resolves with its exit code and combined output (it logs to stderr). */
async function installer(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('bash', [SCRIPT, ...args], { cwd: REPO_ROOT, timeout: 120_000 });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

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
    cp = await startTestControlPlane();
    work = await mkdtemp(path.join(tmpdir(), 'karvon-install-'));
    root = path.join(work, 'root');
    const { stdout } = await run(process.execPath, ['scripts/pack-agent.mjs', '--out', path.join(work, 'release')], { cwd: REPO_ROOT, timeout: 120_000 });
    tarball = stdout.split('\n')[0]!;
    const admin = await cp.adminClient();
    expect((await admin.post('/api/v1/admin/regions', { id: 'install-test', name: 'Install test' })).status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await cp?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('installs, registers, writes a valid Traefik config and units; the agent from that root comes online', async () => {
    const admin = await cp.adminClient();
    const issued = await admin.post<{ token: string; installCommand: string }>('/api/v1/admin/node-tokens', { region: 'install-test', labels: ['builder'] });
    // The script takes exactly the options the API's installCommand passes.
    expect(issued.body.installCommand).toMatch(new RegExp(`/agent/install\\.sh \\| sudo bash -s -- --control-plane http\\S+ --token ${issued.body.token}$`));
    const args = ['--control-plane', cp.url, '--token', issued.body.token, '--name', 'staged', '--bundle', tarball, '--prefix', root, '--docker=existing', '--no-systemd'];
    const first = await installer(args);
    expect(first.code, first.output).toBe(0);
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
    await expect
      .poll(async () => (await admin.get<{ status: string; name: string }>(`/api/v1/admin/nodes/${identity.nodeId}`)).body.status, { timeout: 30_000 })
      .toBe('online');

    const before = await snapshot(root);
    const second = await installer(args.filter((a) => a !== issued.body.token && a !== '--token'));
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain('not registering again');
    expect(second.output).not.toMatch(/wrote:/);
    expect(await snapshot(root)).toEqual(before);
    const nodes = await admin.get<{ items: Array<{ region: string }> }>('/api/v1/admin/nodes');
    expect(nodes.body.items.filter((n) => n.region === 'install-test')).toHaveLength(1);

    agent.kill('SIGTERM');
    await agent.exited;
    const removed = await installer(['--uninstall', '--prefix', root, '--no-systemd']);
    expect(removed.code, removed.output).toBe(0);
    const left = await readdir(root, { recursive: true });
    expect(left.filter((e) => !['etc', 'etc/systemd', 'etc/systemd/system', 'opt', 'var', 'var/lib'].includes(e))).toEqual([]);
  }, 180_000);
});
