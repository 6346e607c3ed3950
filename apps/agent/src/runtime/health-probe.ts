// Health checks from outside the container, as the router would reach it.
import http from 'node:http';
import net from 'node:net';
import type { HealthCheck } from '@karvon/protocol';
import type { HealthResult } from './observation';

export interface ProbeTarget {
  host: string;
  port: number;
}

export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;

/** HTTP: a GET of the path answering 2xx or 3xx. TCP: a connection accepted. */
export function probe(check: HealthCheck, target: ProbeTarget): Promise<HealthResult> {
  const timeoutMs = check.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  return check.type === 'http' ? probeHttp(target, check.path, timeoutMs) : probeTcp(target, timeoutMs);
}

function probeHttp(target: ProbeTarget, path: string, timeoutMs: number): Promise<HealthResult> {
  return new Promise((resolve) => {
    const req = http.get({ host: target.host, port: target.port, path, agent: false, timeout: timeoutMs, headers: { 'user-agent': 'karvon-health' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 400 ? { ok: true } : { ok: false, error: `GET ${path} answered ${status}` });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ ok: false, error: `GET ${path}: ${e.message}` }));
  });
}

function probeTcp(target: ProbeTarget, timeoutMs: number): Promise<HealthResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const done = (r: HealthResult) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, error: `tcp ${target.port}: no connection within ${timeoutMs} ms` }));
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (e) => done({ ok: false, error: `tcp ${target.port}: ${e.message}` }));
  });
}
