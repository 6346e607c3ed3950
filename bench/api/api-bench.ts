// api: the customer API under 200 concurrent clients (autocannon) on a mixed read/write workload
// while simulated agents are connected (docs: ../shared/design/BENCHMARKS.md). The built control
// plane runs as its own process with embedded PostgreSQL in a temp dir and the per-user mutation
// limit lifted; the agents speak the real protocol from child processes (bench/hub/sim-agents.ts);
// autocannon runs in this process (bench/api/load.ts).
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { report } from '../report';
import { ensureBuilt, freePort, Inspector, sleep, startControlPlaneProcess } from '../hub/control-plane-process';
import { adminLogin, ensureRegion, registerFleet } from '../hub/fleet';
import { envInt, log, percentile, round, tempDir, withResources } from '../hub/harness';
import { cpuUs, cpuUsOf, descendants } from '../hub/proc';
import { startProfile, stopProfile, summarise } from '../hub/profile';
import { startSims, totals, waitReady, type Sim } from '../hub/sim-pool';
import { runLoad, type LoadResult } from './load';
import { createPlan, setupCustomers } from './tenants';

const ID = 'api';
const AGENTS_PER_SIM = 2_000;
const REGION = 'bench-api';
const PLAN = 'bench-small';

export async function runApi(): Promise<void> {
  const agents = envInt('API_AGENTS', 1_000);
  const seconds = envInt('API_SECONDS', 20);
  const connections = envInt('API_CONNECTIONS', 200);
  const customers = envInt('API_CUSTOMERS', 50);
  const appsPerCustomer = envInt('API_APPS_PER_CUSTOMER', 4);
  const heartbeatS = envInt('API_HEARTBEAT_S', 10);
  const warmupS = envInt('API_WARMUP_S', 3);
  const profile = process.env.API_PROFILE === '1';
  // 0: closed loop (each client sends again as soon as it is answered); > 0: offered requests/s
  const rate = process.env.API_RATE ? envInt('API_RATE', 0) : 0;

  await ensureBuilt();
  await withResources(async (res) => {
    const dataDir = tempDir(res, 'karvon-bench-api-');
    const [port, pgPort, inspectPort] = [await freePort(), await freePort(), await freePort()];
    const cp = await startControlPlaneProcess({
      dataDir,
      port,
      pgPort,
      heartbeatSeconds: heartbeatS,
      graceSeconds: Math.max(90, heartbeatS * 3),
      ...(profile ? { inspectPort } : {}),
      // The limit guards tenants from each other; here 50 customers share ~500 writes/s on purpose.
      env: { KARVON_MUTATIONS_PER_MINUTE: '1000000', KARVON_MUTATION_BURST: '1000000' },
    });
    res.add('control plane', async () => {
      await cp.stop();
    });
    log(ID, `control plane pid ${cp.pid} ready in ${cp.startMs} ms (port ${port}, embedded PostgreSQL ${pgPort}, mutation limit lifted)`);

    const admin = await adminLogin(cp.url);
    let t = Date.now();
    const fleet = await registerFleet(cp.url, admin, REGION, agents);
    log(ID, `registered ${agents} nodes in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const sims: Sim[] = await startSims(fleet, Math.ceil(agents / AGENTS_PER_SIM), { baseUrl: cp.url, heartbeatMinBytes: 1_000, connectConcurrency: 32 });
    res.add('simulators', async () => {
      await Promise.all(sims.map((s) => s.stop()));
    });
    t = Date.now();
    await Promise.all(sims.map((s) => s.request({ cmd: 'connect' })));
    const connected = await waitReady(sims, agents, 120_000);
    log(ID, `${connected.ready}/${agents} agents connected in ${((Date.now() - t) / 1000).toFixed(1)} s, heartbeat every ${heartbeatS} s (~${Math.round(connected.ready / heartbeatS)}/s)`);
    if (connected.ready < agents) throw new Error(`only ${connected.ready} of ${agents} agents connected`);

    await ensureRegion(cp.url, admin, REGION);
    await createPlan(cp.url, admin, PLAN);
    t = Date.now();
    const tenants = await setupCustomers(cp.url, admin, { region: REGION, planId: PLAN, customers, appsPerCustomer, envVarsPerApp: 3, concurrency: 8 });
    log(ID, `${customers} business-tier customers, each with 1 project and ${appsPerCustomer} apps (3 env vars each), in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    if (warmupS > 0) {
      const w = await runLoad(cp.url, tenants, connections, warmupS);
      log(ID, `warm-up ${warmupS} s: ${w.autocannon.requests} requests (not reported)`);
      await sleep(1_000);
    }

    const [l1 = 0, l5 = 0] = loadavg();
    log(ID, `load average before the run: ${l1.toFixed(2)} (1 min), ${l5.toFixed(2)} (5 min) on ${availableParallelism()} CPUs`);
    const hb0 = await totals(sims);
    const cpu0 = { cp: cpuUs(cp.pid), db: cpuUsOf(descendants(cp.pid)), self: process.cpuUsage() };
    const load = await runLoad(cp.url, tenants, connections, seconds, rate);
    const cpu1 = { cp: cpuUs(cp.pid), db: cpuUsOf(descendants(cp.pid)), self: process.cpuUsage(cpu0.self) };
    const hb1 = await totals(sims);
    const cpuShare = (us: number) => `${((us / 1e6 / load.seconds) * 100).toFixed(0)}%`;
    log(
      ID,
      `${connections} connections for ${seconds} s, ${rate > 0 ? `${rate} requests/s offered` : 'closed loop'}: CPU control plane ${cpuShare(cpu1.cp - cpu0.cp)}, PostgreSQL ${cpuShare(cpu1.db - cpu0.db)}, ` +
        `autocannon (this process) ${cpuShare(cpu1.self.user + cpu1.self.system)} of one core; ` +
        `agents ${hb1.ready} ready after the run, ${hb1.heartbeats - hb0.heartbeats} heartbeats during it, ${hb1.closes - hb0.closes} closes`,
    );
    printAndReport(load, connections, hb1.ready, heartbeatS);
    // CPU per request: less sensitive than throughput to what else the shared machine is running.
    const answered = load.ops.reduce((n, o) => n + o.latencies.length + o.failures, 0);
    const perRequest = (us: number) => Math.round(us / Math.max(1, answered));
    log(ID, `CPU per request: control plane ${perRequest(cpu1.cp - cpu0.cp)} µs, PostgreSQL ${perRequest(cpu1.db - cpu0.db)} µs (${answered} requests answered)`);
    report({ bench: ID, name: 'cp_cpu_per_request_us', value: perRequest(cpu1.cp - cpu0.cp), unit: 'µs' });
    report({ bench: ID, name: 'pg_cpu_per_request_us', value: perRequest(cpu1.db - cpu0.db), unit: 'µs' });
    if (rate === 0) {
      const total = load.ops.reduce((n, o) => n + o.latencies.length, 0) / load.seconds;
      log(ID, `note: closed loop, so mean latency = ${connections} clients / ${total.toFixed(0)} requests/s = ${((connections / total) * 1000).toFixed(1)} ms (Little's law); a read p95 <= 10 ms with ${connections} clients needs well over ${(connections / 0.01).toLocaleString('en-US')} requests/s. API_RATE=<requests/s> offers a fixed rate instead.`);
    }

    if (profile) await profileLoad(cp.url, inspectPort, tenants, connections);
  });
}

function summary(load: LoadResult, kind: 'read' | 'write') {
  const ops = load.ops.filter((o) => o.kind === kind);
  const lat = ops.flatMap((o) => o.latencies).sort((a, b) => a - b);
  const failures = ops.reduce((n, o) => n + o.failures, 0);
  return { count: lat.length, perS: lat.length / load.seconds, p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99), max: lat[lat.length - 1] ?? Number.NaN, failures };
}

function printAndReport(load: LoadResult, connections: number, agents: number, heartbeatS: number): void {
  for (const o of load.ops) {
    const lat = [...o.latencies].sort((a, b) => a - b);
    const statuses = [...o.statuses.entries()].map(([s, n]) => `${s}×${n}`).join(' ');
    log(
      ID,
      `${o.kind.padEnd(5)} ${o.name.padEnd(26)} ${String(lat.length).padStart(7)} ok (${(lat.length / load.seconds).toFixed(0)}/s) ` +
        `p50 ${percentile(lat, 50).toFixed(1)} p95 ${percentile(lat, 95).toFixed(1)} p99 ${percentile(lat, 99).toFixed(1)} ms; statuses ${statuses}`,
    );
    for (const f of o.sampleFailures) log(ID, `      failure: ${f}`);
  }
  const r = summary(load, 'read');
  const w = summary(load, 'write');
  const a = load.autocannon;
  // Every failure counts: non-2xx (429, 5xx, 4xx) per operation, and autocannon's socket errors and timeouts.
  const errors = r.failures + w.failures + a.errors + a.timeouts;
  log(ID, `autocannon totals: ${a.requests} requests, ${a.non2xx} non-2xx, ${a.errors} errors, ${a.timeouts} timeouts, ${a.mismatches} mismatches; mix ${((w.count / Math.max(1, r.count + w.count)) * 100).toFixed(1)}% writes`);

  report({ bench: ID, name: 'connections', value: connections, unit: 'clients' });
  report({ bench: ID, name: 'agents_connected', value: agents, unit: 'agents', anchor: 1_000, anchorLabel: `agents asked for, heartbeat every ${heartbeatS} s`, higherIsBetter: true });
  report({ bench: ID, name: 'reads_per_s', value: Math.round(r.perS), unit: '1/s', anchor: 5_000, anchorLabel: 'target >= 5,000', higherIsBetter: true });
  report({ bench: ID, name: 'read_p50_ms', value: round(r.p50), unit: 'ms' });
  report({ bench: ID, name: 'read_p95_ms', value: round(r.p95), unit: 'ms', anchor: 10, anchorLabel: 'target <= 10; seed target p95 < 200', higherIsBetter: false });
  report({ bench: ID, name: 'read_p99_ms', value: round(r.p99), unit: 'ms', anchor: 1_000, anchorLabel: 'Kubernetes API SLO p99 <= 1 s', higherIsBetter: false });
  report({ bench: ID, name: 'writes_per_s', value: Math.round(w.perS), unit: '1/s' });
  report({ bench: ID, name: 'write_p50_ms', value: round(w.p50), unit: 'ms' });
  report({ bench: ID, name: 'write_p99_ms', value: round(w.p99), unit: 'ms', anchor: 50, anchorLabel: 'target <= 50; Kubernetes API SLO p99 <= 1 s', higherIsBetter: false });
  report({ bench: ID, name: 'errors', value: errors, unit: 'requests' });
  if (errors > 0) {
    log(ID, `FAILED: ${errors} requests failed (must be 0: non-2xx, socket errors, timeouts); the latencies above leave them out`);
    process.exitCode = 1;
  } else log(ID, 'errors: 0 (must be 0: non-2xx, socket errors, timeouts)');
}

/** API_PROFILE=1: a further 10 s of the same load with the inspector's CPU profiler on. */
async function profileLoad(baseUrl: string, inspectPort: number, tenants: Parameters<typeof runLoad>[1], connections: number): Promise<void> {
  const insp = await Inspector.open(inspectPort);
  try {
    await startProfile(insp);
    const load = await runLoad(baseUrl, tenants, connections, 10);
    const file = path.join(tmpdir(), 'karvon-bench-api.cpuprofile');
    const p = await stopProfile(insp, file);
    log(ID, `profile written to ${file}`);
    summarise(p, `${load.autocannon.requests} requests of the mix (profiler on)`, { count: load.autocannon.requests, unit: 'request' }, 25);
  } finally {
    insp.close();
  }
}
