// Debian's `pebble` (a real ACME server) and `pebble-challtestsrv` (its DNS: every A query answers
// 127.0.0.1, TXT records set through its management API) on loopback, for the domain and
// certificate tests. Pebble validates HTTP-01 on `httpPort`, which the test serves as the node.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../../test/free-port';
import { startProcess, type RunningProcess } from '../../../test/processes';

export interface ChallTestSrv {
  /** `127.0.0.1:<port>`, for KARVON_DNS_RESOLVER */
  dnsAddress: string;
  setTxt(name: string, value: string): Promise<void>;
  clearTxt(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface Pebble {
  directoryUrl: string;
  /** Pebble's own TLS certificate (self-signed), for KARVON_ACME_CA_FILE */
  caFile: string;
  /** where Pebble connects for HTTP-01 (127.0.0.1, as the DNS answers) */
  httpPort: number;
  stop(): Promise<void>;
}

async function stopProcess(p: RunningProcess): Promise<void> {
  p.kill('SIGTERM');
  await Promise.race([p.exited, new Promise((r) => setTimeout(r, 3000))]);
  p.kill('SIGKILL');
}

export async function startChallTestSrv(): Promise<ChallTestSrv> {
  const [dns, mgmt] = [await freePort(), await freePort()];
  const proc = startProcess(
    'pebble-challtestsrv',
    ['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${dns}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${mgmt}`],
    {},
  );
  await proc.waitForOutput(/Starting management server/i, 10_000).catch(async () => {
    // Older builds log differently: fall back to asking the management port.
    await waitFor(() => fetch(`http://127.0.0.1:${mgmt}/`).then(() => true));
  });
  const post = async (pathname: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${mgmt}${pathname}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`challtestsrv ${pathname}: ${res.status} ${await res.text()}`);
  };
  return {
    dnsAddress: `127.0.0.1:${dns}`,
    setTxt: (name, value) => post('/set-txt', { host: `${name}.`, value }),
    clearTxt: (name) => post('/clear-txt', { host: `${name}.` }),
    stop: () => stopProcess(proc),
  };
}

export async function startPebble(dnsAddress: string): Promise<Pebble> {
  const dir = await mkdtemp(path.join(tmpdir(), 'karvon-pebble-'));
  const [listen, mgmt, httpPort, tlsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=pebble-test', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const config = path.join(dir, 'pebble.json');
  await writeFile(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listen}`,
        managementListenAddress: `127.0.0.1:${mgmt}`,
        certificate: cert,
        privateKey: key,
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const proc = startProcess('pebble', ['-config', config, '-dnsserver', dnsAddress], {
    // No artificial validation delay, no rejected nonces, no reused authorizations: each order
    // really validates, and fast.
    PEBBLE_VA_NOSLEEP: '1',
    PEBBLE_WFE_NONCEREJECT: '0',
    PEBBLE_AUTHZREUSE: '0',
  });
  const directoryUrl = `https://127.0.0.1:${listen}/dir`;
  const ca = cert;
  try {
    await waitFor(() => httpsOk(directoryUrl, ca));
  } catch (e) {
    throw new Error(`pebble did not start: ${String(e)}\n${proc.output().slice(-2000)}`);
  }
  return {
    directoryUrl,
    caFile: ca,
    httpPort,
    async stop() {
      await stopProcess(proc);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function httpsOk(url: string, caFile: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(caFile) }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve(true);
      else reject(new Error(`status ${res.statusCode}`));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      if (Date.now() - started > timeoutMs) throw e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
