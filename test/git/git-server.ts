// A loopback HTTPS git server for tests: `git http-backend` (CGI) behind a Node https server with
// a throwaway self-signed certificate for 127.0.0.1. Builds fetch over https exactly as they would
// from a real forge; nothing is ever read from a local path URL. The agent under test trusts the
// certificate through KARVON_GIT_CA_FILE (`caFile`) and reaches the server because its
// `host:port` is in KARVON_GIT_ALLOWED_HOSTS (`hostPort`).
import { execFile as execFileCb, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFile = promisify(execFileCb);

/** File contents by repo path; `{ symlink: target }` makes a symbolic link. */
export type RepoFiles = Record<string, string | { symlink: string }>;

export interface TestGitServer {
  /** `127.0.0.1:<port>`, for KARVON_GIT_ALLOWED_HOSTS */
  hostPort: string;
  /** the server's certificate, for KARVON_GIT_CA_FILE */
  caFile: string;
  /** requests served so far (a refused build must not have made any) */
  requests(): number;
  /** the folder holding the bare repos (`<name>.git`), for another transport (ssh-git-server.ts) */
  reposDir: string;
  /** the `Authorization` header values of requests refused for want of the right credentials */
  refusedAuthorizations(): string[];
  /** `https://127.0.0.1:<port>/<name>.git` */
  url(name: string): string;
  /** Creates (or adds a commit to) bare repo `name` on `branch`; returns the new commit's SHA. */
  commit(name: string, content: { fromDir?: string; files?: RepoFiles }, branch?: string): Promise<string>;
  close(): Promise<void>;
}

const GIT_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'karvon test',
  GIT_AUTHOR_EMAIL: 'test@karvon.invalid',
  GIT_COMMITTER_NAME: 'karvon test',
  GIT_COMMITTER_EMAIL: 'test@karvon.invalid',
};

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await execFile('git', args, { cwd, env: GIT_ENV });
  return stdout.trim();
}

export interface GitServerOptions {
  /** When set, every request needs HTTP basic auth with this user and password (a private forge). */
  basicAuth?: { username: string; password: string };
}

export async function startGitServer(opts: GitServerOptions = {}): Promise<TestGitServer> {
  const base = await mkdtemp(path.join(tmpdir(), 'karvon-git-'));
  const root = path.join(base, 'repos');
  await mkdir(root);
  const keyFile = path.join(base, 'key.pem');
  const caFile = path.join(base, 'cert.pem');
  await execFile('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', caFile]);
  let requests = 0;
  const refused: string[] = [];
  const expected = opts.basicAuth ? `Basic ${Buffer.from(`${opts.basicAuth.username}:${opts.basicAuth.password}`).toString('base64')}` : undefined;
  const server: Server = createServer({ key: await readFile(keyFile), cert: await readFile(caFile) }, (req, res) => {
    requests += 1;
    if (expected !== undefined && req.headers.authorization !== expected) {
      refused.push(req.headers.authorization ?? '');
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="karvon-test"', 'content-type': 'text/plain' }).end('authentication required\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const child = spawn('git', ['http-backend'], {
      env: {
        ...GIT_ENV,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    let head = Buffer.alloc(0);
    let headerDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headerDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      const endLf = head.indexOf('\n\n');
      const [at, sep] = end >= 0 && (endLf < 0 || end < endLf) ? [end, 4] : [endLf, 2];
      if (at < 0) return;
      headerDone = true;
      let status = 200;
      for (const line of head.subarray(0, at).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.statusCode = status;
      res.write(head.subarray(at + sep));
    });
    child.on('close', () => {
      if (!headerDone) res.statusCode = 502;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const work = path.join(base, 'work');

  return {
    hostPort: `127.0.0.1:${port}`,
    caFile,
    requests: () => requests,
    reposDir: root,
    refusedAuthorizations: () => [...refused],
    url: (name) => `https://127.0.0.1:${port}/${name}.git`,
    async commit(name, content, branch = 'main') {
      const bare = path.join(root, `${name}.git`);
      const dir = path.join(work, name);
      if (!(await exists(bare))) {
        await git(root, ['init', '--quiet', '--bare', '--initial-branch', branch, '--', bare]);
        // Fetching a commit by SHA (what builds do) is what protocol v2 allows; v0 needs this.
        await git(bare, ['config', 'uploadpack.allowAnySHA1InWant', 'true']);
        await mkdir(dir, { recursive: true });
        await git(dir, ['init', '--quiet', '--initial-branch', branch]);
        await git(dir, ['remote', 'add', 'origin', bare]);
      }
      const branches = await git(dir, ['branch', '--list', branch]);
      if (branches) await git(dir, ['checkout', '--quiet', branch]);
      else await git(dir, ['checkout', '--quiet', '--orphan', branch]);
      // Each commit is the full tree given: start from empty.
      await git(dir, ['rm', '-r', '-q', '--cached', '--ignore-unmatch', '.']);
      for (const entry of await readdirSafe(dir)) if (entry !== '.git') await rm(path.join(dir, entry), { recursive: true, force: true });
      if (content.fromDir) await cp(content.fromDir, dir, { recursive: true, verbatimSymlinks: true });
      for (const [file, value] of Object.entries(content.files ?? {})) {
        const p = path.join(dir, file);
        await mkdir(path.dirname(p), { recursive: true });
        await rm(p, { force: true });
        if (typeof value === 'string') await writeFile(p, value, { mode: 0o644 });
        else await symlink(value.symlink, p);
      }
      await git(dir, ['add', '-A', '.']);
      await git(dir, ['commit', '--quiet', '--allow-empty', '-m', `commit to ${name}`]);
      await git(dir, ['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`]);
      return git(dir, ['rev-parse', 'HEAD']);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(base, { recursive: true, force: true });
    },
  };
}

async function exists(p: string): Promise<boolean> {
  return readFile(path.join(p, 'HEAD')).then(
    () => true,
    () => false,
  );
}

async function readdirSafe(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}
