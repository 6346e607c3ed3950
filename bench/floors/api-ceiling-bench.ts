// api-ceiling: what this machine allows under the api targets (reads p95 <= 10 ms, >= 5,000
// reads/s) with no Karvon code in the way. For each of a bare node:http server and a one-route
// Express 5 app, in its own process: one autocannon instance in this process (closed loop,
// pipelining 1) warms up, then runs the measured window. Latencies are autocannon's own per-response
// times (from the write of the request to the end of the response), taken from its `response`
// event so p95 is exact rather than autocannon's p97.5 bucket; server CPU is the server process's
// own process.cpuUsage() over the window divided by the requests it answered.
import autocannon from 'autocannon';
import { report } from '../report';
import { cpuWindow, type CpuWindow } from './cpu-sample';
import { envNumber, sleep } from './env-knob';
import { startFloorChild } from './floor-child';
import { quantile } from './latency-quantile';
import { machineLoadLine } from './machine-load';

const CEILING_PATH = '/api/v1/apps/app_123';
const P95_TARGET_MS = 10;
const RPS_TARGET = 5000;

type Mode = 'bare' | 'express';

interface Load {
  requests: number;
  seconds: number;
  latencies: number[];
  failures: number;
}

function load(port: string, connections: number, seconds: number): Promise<Load> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let failures = 0;
    const instance = autocannon(
      { url: `http://127.0.0.1:${port}${CEILING_PATH}`, connections, duration: seconds, pipelining: 1, timeout: 10, headers: { authorization: `Bearer ${'x'.repeat(192)}` } },
      (err: unknown, res: autocannon.Result) => {
        if (err) reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
        else resolve({ requests: latencies.length, seconds, latencies, failures: failures + res.errors + res.timeouts });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode === 200) latencies.push(responseTime);
      else failures += 1;
    });
  });
}

async function measure(mode: Mode, connections: number, seconds: number, warmupSeconds: number): Promise<{ load: Load; cpu: CpuWindow }> {
  const server = startFloorChild('http-server.ts', [mode]);
  try {
    const port = String((await server.next('listening', 30_000)).port);
    await load(port, connections, warmupSeconds);
    await sleep(500);
    const a = await server.sample();
    const l = await load(port, connections, seconds);
    const b = await server.sample();
    return { load: l, cpu: cpuWindow(a, b) };
  } finally {
    await server.stop();
  }
}

export async function runApiCeiling(): Promise<void> {
  const connections = envNumber('API_CEILING_CONNECTIONS', 200);
  const seconds = envNumber('API_CEILING_SECONDS', 10);
  const warmupSeconds = envNumber('API_CEILING_WARMUP_S', 3);
  console.log(`autocannon, ${connections} connections, ${seconds} s after ${warmupSeconds} s warm-up, GET ${CEILING_PATH} answering a small constant JSON (75 bytes); p95 is exact (from every response time), not autocannon's p97.5`);
  for (const mode of ['bare', 'express'] as const) {
    const { load: l, cpu } = await measure(mode, connections, seconds, warmupSeconds);
    const label = mode === 'bare' ? 'node:http' : 'Express 5';
    console.log(`${label}: ${l.requests} responses in ${l.seconds} s, ${l.failures} failures; server ${(cpu.coreShare * 100).toFixed(0)}% of a core`);
    const bench = 'api-ceiling';
    report({ bench, name: `${mode}_requests_per_s`, value: Math.round(l.requests / l.seconds), unit: 'req/s', anchor: RPS_TARGET, anchorLabel: 'api target >= 5,000 reads/s', higherIsBetter: true });
    report({ bench, name: `${mode}_p50_ms`, value: quantile(l.latencies, 0.5), unit: 'ms' });
    report({ bench, name: `${mode}_p95_ms`, value: quantile(l.latencies, 0.95), unit: 'ms', anchor: P95_TARGET_MS, anchorLabel: 'api target reads p95 <= 10 ms', higherIsBetter: false });
    report({ bench, name: `${mode}_p99_ms`, value: quantile(l.latencies, 0.99), unit: 'ms' });
    report({ bench, name: `${mode}_server_cpu_us_per_req`, value: cpu.usPerUnit, unit: 'us' });
  }
  console.log(machineLoadLine());
}
