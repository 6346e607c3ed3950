// A loopback ssh git server for tests: a throwaway `sshd -D` on 127.0.0.1 with its own host key,
// config and authorized_keys, serving the bare repos of a TestGitServer (git-server.ts) through
// git-upload-pack. Only the keys given to `authorize` log in (as the user running the tests), each
// restricted (no pty, no forwarding), as a forge's read-only deploy key would be.
import { execFile as execFileCb } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../eventually';
import { freePort } from '../free-port';
import { startProcess, type RunningProcess } from '../processes';

const execFile = promisify(execFileCb);

export interface TestSshGitServer {
  /** `127.0.0.1:<port>`, for KARVON_GIT_ALLOWED_HOSTS */
  hostPort: string;
  /** the server's host key as a known_hosts line (`[127.0.0.1]:<port> ssh-ed25519 AAAA…`) */
  knownHostsLine: string;
  /** `ssh://<user>@127.0.0.1:<port>/<reposDir>/<name>.git` */
  url(name: string): string;
  /** Replaces the authorized keys (authorized_keys lines, `ssh-ed25519 AAAA… comment`). */
  authorize(publicKeys: readonly string[]): Promise<void>;
  /** sshd's log so far (accepted and refused logins) */
  log(): string;
  close(): Promise<void>;
}

async function listening(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.end();
      resolve();
    });
    s.on('error', reject);
  });
}

export async function startSshGitServer(reposDir: string): Promise<TestSshGitServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'karvon-sshd-'));
  const hostKey = path.join(dir, 'host_ed25519');
  const authorizedKeys = path.join(dir, 'authorized_keys');
  await execFile('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'karvon-test-host', '-f', hostKey]);
  await writeFile(authorizedKeys, '', { mode: 0o600 });
  // sshd's privilege separation directory (created by the package's service, which is not running here).
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const user = userInfo().username;
  const config = path.join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `AllowUsers ${user}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const proc: RunningProcess = startProcess('/usr/sbin/sshd', ['-D', '-e', '-f', config], {});
  await eventually(() => listening(port), 15_000, 100).catch((e: unknown) => {
    proc.kill();
    throw new Error(`sshd did not listen: ${(e as Error).message}\n${proc.output()}`);
  });
  const pub = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ');
  return {
    hostPort: `127.0.0.1:${port}`,
    knownHostsLine: `[127.0.0.1]:${port} ${pub[0]} ${pub[1]}`,
    url: (name) => `ssh://${user}@127.0.0.1:${port}${path.resolve(reposDir)}/${name}.git`,
    async authorize(publicKeys) {
      await writeFile(authorizedKeys, publicKeys.map((k) => `restrict ${k}\n`).join(''), { mode: 0o600 });
    },
    log: () => proc.output(),
    async close() {
      proc.kill();
      await proc.exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
