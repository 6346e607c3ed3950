// Test helpers for routing (unit and integration tests): the official Traefik schemas through ajv,
// and real self-signed certificates from openssl (argv, never a shell).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';

const SCHEMAS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../shared/schemas');

type Validate = (data: unknown) => string[];

function compile(file: string): Validate {
  const validate = new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(path.join(SCHEMAS, file), 'utf8')) as object);
  return (data) => (validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.dataPath} ${e.message ?? ''}`));
}

/** Errors against traefik-v3-file-provider.json (dynamic config); [] when valid. */
export const dynamicConfigErrors: Validate = compile('traefik-v3-file-provider.json');
/** Errors against traefik-v3.json (static config); [] when valid. */
export const staticConfigErrors: Validate = compile('traefik-v3.json');

/** A self-signed EC certificate for the hostnames (SANs), and its key. */
export function selfSignedCertificate(hostnames: string[]): { certificatePem: string; privateKeyPem: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'karvon-cert-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
      '-subj', `/CN=${hostnames[0]}`, '-addext', `subjectAltName=${hostnames.map((h) => `DNS:${h}`).join(',')}`,
      '-keyout', keyFile, '-out', certFile,
    ], { stdio: 'ignore' });
    return { certificatePem: readFileSync(certFile, 'utf8'), privateKeyPem: readFileSync(keyFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** GET (or another method) with an explicit Host header, which fetch() would not send. */
export function httpRequest(port: number, urlPath: string, host: string, method = 'GET'): Promise<{ status: number; body: string; contentType: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: urlPath, method, headers: { host }, timeout: 2_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), contentType: res.headers['content-type'] }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
