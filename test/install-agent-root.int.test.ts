// scripts/install-agent.sh for real in a throwaway Debian 12 root: a `debootstrap --variant=minbase`
// root (made once, cached: install-agent-debian-root.ts) imported as a Docker image, run with the
// host's network and the host engine's socket. Inside it, the admin API's installCommand runs as
// printed — `curl <cp>/agent/install.sh | bash -s -- --control-plane … --token …` — with the options
// a real server without systemd whose engine is installed otherwise needs (--no-systemd,
// --docker=existing). It creates the karvon user, downloads and verifies the release, writes the
// settings, the Traefik static config and the units, registers; the agent started from that root as
// the installer says (as karvon, with agent.env) comes online. The same command again changes
// nothing; --uninstall removes what was installed.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { staticConfigErrors } from '../apps/agent/src/routing/testing';
import { startTestControlPlane, type TestControlPlane } from './control-plane';
import { describeDocker } from './docker/engine';
import { eventually } from './eventually';
import { freePort } from './free-port';
import { ensureDebianRootImage } from './install-agent-debian-root';
import { installCommandLine, outcome, type Outcome } from './install-agent-helpers';
import { REPO_ROOT, startProcess, type RunningProcess } from './processes';

const run = promisify(execFile);
const SOCKET = '/var/run/docker.sock';

/** Everything the installer may write, listed as `path size mtime mode owner` lines (missing paths skipped). */
const INSTALLED = ['/opt/karvon-agent', '/etc/karvon', '/etc/systemd/system', '/var/lib/karvon-agent/node.json', '/etc/passwd', '/etc/group', '/etc/shadow'];

await describeDocker('install-agent.sh in a debootstrapped Debian root', () => {
  let cp: TestControlPlane;
  let work: string;
  let container: string | undefined;
  let agent: RunningProcess | undefined;

  /** Runs a command in the root, as root. */
  const inRoot = (args: string[], env: Record<string, string> = {}): Promise<Outcome> =>
    outcome('docker', ['exec', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), container!, ...args]);
  const shell = async (line: string): Promise<string> => {
    const r = await inRoot(['sh', '-c', line]);
    expect(r.code, r.output).toBe(0);
    return r.output;
  };
  // Files only: writing a file through a temporary one touches its directory's mtime, not its own.
  const snapshot = () => shell(`find ${INSTALLED.join(' ')} -type f -printf '%p %s %T@ %m %u\\n' 2>/dev/null | sort; true`);

  beforeAll(async () => {
    const image = await ensureDebianRootImage();
    work = await mkdtemp(path.join(tmpdir(), 'karvon-install-root-'));
    const releaseDir = path.join(work, 'release');
    await run(process.execPath, ['scripts/pack-agent.mjs', '--out', releaseDir], { cwd: REPO_ROOT, timeout: 120_000 });
    const port = await freePort();
    cp = await startTestControlPlane({ KARVON_PORT: String(port), KARVON_PUBLIC_URL: `http://127.0.0.1:${port}`, KARVON_AGENT_RELEASE_DIR: releaseDir });
    const admin = await cp.adminClient();
    expect((await admin.post('/api/v1/admin/regions', { id: 'root-test', name: 'Root test' })).status).toBe(201);
    const name = `karvon-install-root-${process.pid}-${Date.now()}`;
    await run('docker', ['run', '-d', '--name', name, '--network', 'host', '-v', `${SOCKET}:${SOCKET}`, image, 'sleep', 'infinity']);
    container = name;
    // The engine's own package made a docker group owning its socket; this root shares the
    // host's engine, so its docker group is the socket's.
    const gid = (await stat(SOCKET)).gid;
    await shell(`groupadd --system --gid ${gid} docker`);
  }, 900_000);

  afterAll(async () => {
    agent?.kill('SIGKILL');
    if (container) await run('docker', ['rm', '-f', container]).catch(() => undefined);
    await cp?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('installs via curl | bash, registers, and the agent started from the root comes online; a rerun changes nothing; --uninstall removes it', async () => {
    const admin = await cp.adminClient();
    const issued = await admin.post<{ token: string; installCommand: string }>('/api/v1/admin/node-tokens', { region: 'root-test', labels: ['builder'] });
    expect(issued.status).toBe(201);
    const options = ['--name', 'debian-root', '--docker=existing', '--no-systemd'];
    const line = installCommandLine(issued.body.installCommand, options);
    expect(line).toContain(`curl -fsSL ${cp.url}/agent/install.sh | bash -s -- --control-plane ${cp.url} --token ${issued.body.token}`);

    const first = await inRoot(['bash', '-o', 'pipefail', '-c', line]);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain('platform: debian 12');
    expect(first.output).toContain('user: created karvon');
    expect(first.output).toMatch(/agent release checksum ok \([0-9a-f]{64}\)/);
    expect(first.output).toMatch(/registered: node_[a-z0-9]{20}/);

    // What it wrote, in the final paths, owned as the units expect.
    const traefik = parseYaml(await shell('cat /etc/karvon/traefik.yml')) as { providers: { file: { directory: string } } };
    expect(staticConfigErrors(traefik)).toEqual([]);
    expect(traefik.providers.file.directory).toBe('/var/lib/karvon-agent/proxy');
    expect(await shell('cat /etc/karvon/agent.env')).toContain('KARVON_STATE_DIR=/var/lib/karvon-agent');
    expect(await shell('stat -c "%U %a" /var/lib/karvon-agent /var/lib/karvon-agent/node.json')).toBe('karvon 700\nkarvon 600\n');
    expect(await shell('id -nG karvon')).toMatch(/\bdocker\b/);
    expect(await shell('ls /etc/systemd/system')).toMatch(/karvon-agent\.service\s+karvon-traefik\.service/);
    expect(await shell('/opt/karvon-agent/bin/node --version')).toBe(`${process.version}\n`);
    const identity = JSON.parse(await shell('cat /var/lib/karvon-agent/node.json')) as { nodeId: string };

    // The agent as --no-systemd says to run it: as karvon, with agent.env in its environment.
    agent = startProcess(
      'docker',
      [
        'exec',
        '-e', `KARVON_CHALLENGE_PORT=${await freePort()}`,
        '-e', 'KARVON_PORT_RANGE=29200-29299',
        '-e', 'KARVON_LOG_LEVEL=warn',
        container!,
        'sh', '-c',
        'set -a; . /etc/karvon/agent.env; set +a; echo $$ > /run/karvon-agent.pid; ' +
          'exec setpriv --reuid=karvon --regid=karvon --init-groups -- /opt/karvon-agent/bin/karvon-agent run --state-dir /var/lib/karvon-agent',
      ],
      process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {},
    );
    await eventually(async () => {
      const node = await admin.get<{ status: string; name: string }>(`/api/v1/admin/nodes/${identity.nodeId}`);
      expect(node.body, agent!.output()).toMatchObject({ status: 'online', name: 'debian-root' });
    }, 90_000, 500);

    // The same command again (its token now used): nothing written, nothing registered.
    const before = await snapshot();
    expect(before).toContain('/opt/karvon-agent/bin/node ');
    const second = await inRoot(['bash', '-o', 'pipefail', '-c', line]);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain('user: karvon exists');
    expect(second.output).toContain('agent release already installed');
    expect(second.output).toContain('not registering again');
    expect(second.output).not.toMatch(/wrote:/);
    expect(await snapshot()).toBe(before);
    const nodes = await admin.get<{ items: Array<{ region: string }> }>('/api/v1/admin/nodes');
    expect(nodes.body.items.filter((n) => n.region === 'root-test')).toHaveLength(1);

    await shell('kill -TERM "$(cat /run/karvon-agent.pid)"');
    await agent.exited;
    const removed = await inRoot(['bash', '-o', 'pipefail', '-c', installCommandLine(issued.body.installCommand.replace(/ --control-plane .*$/, ''), ['--uninstall', '--no-systemd'])]);
    expect(removed.code, removed.output).toBe(0);
    expect(await shell('for p in /opt/karvon-agent /etc/karvon /var/lib/karvon-agent /etc/systemd/system/karvon-agent.service /etc/systemd/system/karvon-traefik.service; do [ -e "$p" ] && echo "left: $p"; done; true')).toBe('');
  }, 600_000);
});
