// Shared by the install-agent tests: running the admin API's installCommand for real, and a
// proxy that corrupts the agent download on its way, as a bad mirror or a tampering middlebox would.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { REPO_ROOT } from './processes';

const run = promisify(execFile);

export interface Outcome {
  code: number;
  output: string;
}

/** Runs a command; resolves with its exit code and combined output (the installer logs to stderr). */
export async function outcome(file: string, args: string[], timeoutMs = 240_000): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof err.code === 'number' ? err.code : -1, output: `${err.stdout ?? ''}${err.stderr ?? ''}${typeof err.code === 'number' ? '' : err.message}` };
  }
}

const shellQuote = (s: string) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The shell line that runs `installCommand` (curl … | sudo bash -s -- …) with `extra` options
 * appended. The tests run as root, where the command's `sudo` is a no-op (and a minimal Debian root
 * has no sudo): it is left out; everything else is the command as the API printed it.
 */
export function installCommandLine(installCommand: string, extra: string[]): string {
  const pipe = / \| sudo bash -s --( |$)/;
  if (!pipe.test(installCommand)) throw new Error(`unexpected installCommand: ${installCommand}`);
  return [installCommand.replace(pipe, ' | bash -s --$1').trimEnd(), ...extra.map(shellQuote)].join(' ');
}

/** Runs `installCommand` plus `extra` on this host, under bash with pipefail (a failed curl fails the run). */
export const runInstallCommand = (installCommand: string, extra: string[]) =>
  outcome('bash', ['-o', 'pipefail', '-c', installCommandLine(installCommand, extra)]);

/**
 * An HTTP proxy to `target` that passes everything through, except that it flips one byte in the
 * middle of every GET /agent/download body. Resolves with its URL and a close function.
 */
export async function corruptingProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const forwarded = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        const corrupt = new URL(req.url ?? '/', target).pathname === '/agent/download' && answer.statusCode === 200;
        if (!corrupt) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          const at = Math.floor(body.length / 2);
          body[at] = body[at]! ^ 0xff;
          res.writeHead(200, answer.headers);
          res.end(body);
        });
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
