// hub-detect, two parts on one data dir (registering 10,000 nodes through the API is the slow part):
// (1) detection: a control plane with short timings (2 s heartbeats, 10 s grace) and a sample of
//     agents connected; half of them go silent (no heartbeat, no pong, no FIN: the socket just goes
//     quiet, as with a power cut) and the admin API is polled until each shows offline.
// (2) re-admission: the control plane restarted with the default timings (30 s heartbeats, 90 s
//     grace) and all N agents connected; SIGTERM it, start it again on the same data dir and ports,
//     and time until every agent is welcomed again (each reconnects with the agent's own jittered
//     exponential backoff) while the database is polled for nodes marked offline meanwhile (false
//     offline: they were never dead).
import { report } from '../report';
import { embeddedDatabaseUrl, freePort, sleep, startControlPlaneProcess, type ControlPlaneProcess, type ControlPlaneSettings } from './control-plane-process';
import { adminLogin, listRegionNodes, registerFleet } from './fleet';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { envInt, log, percentile, query, round, tempDir, withResources } from './harness';
import { cpuUs, cpuUsOf, descendants } from './proc';
import { summarise, type CpuProfile } from './profile';
import { startSim, startSims, totals, waitReady, type Sim } from './sim-pool';

const ID = 'hub-detect';

export async function runHubDetect(): Promise<void> {
  const total = envInt('HUB_DETECT_AGENTS', 10_000);
  const sample = Math.min(envInt('HUB_DETECT_SAMPLE', 1_000), Math.floor(total / 2));
  const heartbeatS = envInt('HUB_DETECT_HEARTBEAT_S', 2);
  const graceS = envInt('HUB_DETECT_GRACE_S', 10);
  const fleetCount = total - sample;
  const doomedCount = Math.floor(sample / 2);
  const simOpts = { heartbeatMinBytes: 1_000, connectConcurrency: 32 };

  await withResources(async (res) => {
    const dataDir = tempDir(res, 'karvon-bench-hub-detect-');
    const short: ControlPlaneSettings = { dataDir, port: await freePort(), pgPort: await freePort(), heartbeatSeconds: heartbeatS, graceSeconds: graceS };
    // HUB_DETECT_LOG_LEVEL (warn): the restarted process's log level, to see where a slow start spends its time.
    const production: ControlPlaneSettings = { ...short, heartbeatSeconds: 30, graceSeconds: 90, logLevel: process.env.HUB_DETECT_LOG_LEVEL ?? 'warn' };
    // HUB_DETECT_PROFILE=1 (or a directory to keep the .cpuprofile in): the restarted process (the
    // one re-admitting the fleet) runs with --cpu-prof; its profile, written at its exit, is
    // summarised per re-admitted agent.
    const profileEnv = process.env.HUB_DETECT_PROFILE;
    const profileDir = !profileEnv ? undefined : profileEnv === '1' ? tempDir(res, 'karvon-bench-hub-detect-prof-') : profileEnv;
    let cp: ControlPlaneProcess = await startControlPlaneProcess(short);
    res.add('control plane', async () => {
      await cp.stop();
    });
    const dbUrl = embeddedDatabaseUrl(dataDir, short.pgPort);
    log(ID, `control plane pid ${cp.pid} ready in ${cp.startMs} ms; heartbeat ${heartbeatS} s (suspect after ${2 * heartbeatS + 1} s), grace ${graceS} s`);

    const admin = await adminLogin(cp.url);
    let t = Date.now();
    const detect = await registerFleet(cp.url, admin, 'detect', sample);
    const fleet = await registerFleet(cp.url, admin, 'fleet', fleetCount);
    const registerS = (Date.now() - t) / 1000;
    log(ID, `registered ${total} nodes through the API in ${registerS.toFixed(1)} s (${Math.round(total / registerS)}/s)`);

    const sims: Sim[] = [];
    res.add('simulators', async () => {
      await Promise.all(sims.map((s) => s.stop()));
    });

    // --- 1. silent death, short timings, the detection sample connected ---------------------------
    const doomed = detect.slice(0, doomedCount);
    const liveSim = await startSim('127.0.0.10', detect.slice(doomedCount), { ...simOpts, baseUrl: cp.url });
    let doomedSim = await startSim('127.0.0.9', doomed, { ...simOpts, baseUrl: cp.url });
    sims.push(liveSim, doomedSim);
    await Promise.all(sims.map((s) => s.request({ cmd: 'connect' })));
    const up = await waitReady(sims, sample, 90_000);
    if (up.ready < sample) throw new Error(`only ${up.ready} of ${sample} sample agents connected`);
    await sleep(2 * heartbeatS * 1000 + 1_000);
    const silenced = await doomedSim.silence();
    const doomedIds = new Set(silenced.nodes.map((n) => n.nodeId));
    const seen = new Map<string, number>();
    const liveOffline = new Set<string>();
    let polls = 0;
    const deadline = silenced.silencedAt + (graceS + 60) * 1000;
    while (seen.size < doomedIds.size && Date.now() < deadline) {
      const rows = await listRegionNodes(cp.url, admin, 'detect');
      const at = Date.now();
      polls += 1;
      for (const row of rows) {
        if (row.liveness !== 'offline') continue;
        if (!doomedIds.has(row.id)) liveOffline.add(row.id);
        else if (!seen.has(row.id)) seen.set(row.id, at);
      }
      await sleep(100);
    }
    const detectS = [...seen.values()].map((at) => (at - silenced.silencedAt) / 1000).sort((x, y) => x - y);
    const lastHb = new Map(silenced.nodes.map((n) => [n.nodeId, n.lastHeartbeatAt]));
    const sinceHbS = [...seen.entries()].map(([id, at]) => (at - lastHb.get(id)!) / 1000).sort((x, y) => x - y);
    log(
      ID,
      `silenced ${doomedIds.size} of ${sample} agents; ${seen.size} shown offline by GET /api/v1/admin/nodes (${polls} polls of the region, 200 a page); ` +
        `after the silence p50 ${percentile(detectS, 50).toFixed(1)} s, p99 ${percentile(detectS, 99).toFixed(1)} s, max ${percentile(detectS, 100).toFixed(1)} s; ` +
        `after each agent's last heartbeat p50 ${percentile(sinceHbS, 50).toFixed(1)} s, p99 ${percentile(sinceHbS, 99).toFixed(1)} s; ` +
        `live sample agents shown offline meanwhile: ${liveOffline.size}`,
    );
    // The dead agents' process goes; a new one for the same nodes joins the whole fleet below.
    await doomedSim.kill();
    sims.splice(sims.indexOf(doomedSim), 1);

    // --- 2. the whole fleet on the default timings, then a restart under it ------------------------
    await cp.stop();
    cp = await startControlPlaneProcess(production);
    log(ID, `control plane restarted with the default timings (heartbeat 30 s, grace 90 s); connecting all ${total} agents`);
    t = Date.now();
    doomedSim = await startSim('127.0.0.9', doomed, { ...simOpts, baseUrl: cp.url });
    const fleetSims = await startSims(fleet, Math.max(1, Math.ceil(fleetCount / 2_500)), { ...simOpts, baseUrl: cp.url, firstHost: 11 });
    sims.push(doomedSim, ...fleetSims);
    await Promise.all([doomedSim, ...fleetSims].map((s) => s.request({ cmd: 'connect' })));
    const connected = await waitReady(sims, total, 170_000);
    const connectS = (Date.now() - t) / 1000;
    log(ID, `${connected.ready}/${total} agents welcomed in ${connectS.toFixed(1)} s (token failures ${connected.tokenFailures}, upgrade failures ${connected.upgradeFailures})`);
    if (connected.ready < total) throw new Error(`only ${connected.ready} of ${total} agents connected`);
    const restarted: ControlPlaneSettings = profileDir
      ? { ...production, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-interval=500'] }
      : production;
    const r = await measureRestart(cp, restarted, sims, total, dbUrl, 'heartbeat 30 s, grace 90 s');
    cp = r.cp;
    if (profileDir) {
      await cp.stop();
      const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      if (file) summarise(JSON.parse(readFileSync(path.join(profileDir, file), 'utf8')) as CpuProfile, `restarted control plane, whole life (${r.readmitted} re-admissions)`, { count: r.readmitted, unit: 'agent' }, 25);
      else log(ID, 'no CPU profile was written by the restarted process');
    }

    report({ bench: ID, name: 'agents', value: total, unit: 'agents' });
    report({ bench: ID, name: 'register_s', value: round(registerS, 1), unit: 's' });
    report({ bench: ID, name: 'connect_s', value: round(connectS, 1), unit: 's' });
    report({ bench: ID, name: 'restart_stop_s', value: round(r.stopMs / 1000, 1), unit: 's' });
    report({ bench: ID, name: 'restart_start_s', value: round(r.cp.startMs / 1000, 1), unit: 's' });
    report({ bench: ID, name: 'readmitted', value: r.readmitted, unit: 'agents' });
    report({ bench: ID, name: 'readmit_p50_s', value: round(r.p50S, 1), unit: 's' });
    report({ bench: ID, name: 'readmit_all_s', value: round(r.allS, 1), unit: 's', anchor: 60, anchorLabel: 'target for 10,000, from SIGTERM', higherIsBetter: false });
    report({ bench: ID, name: 'readmit_after_ready_s', value: round(r.afterReadyS, 1), unit: 's' });
    report({ bench: ID, name: 'restart_start_cpu_s', value: round(r.startCpuMs / 1000, 1), unit: 's' });
    report({ bench: ID, name: 'readmit_cpu_ms_per_agent', value: round(r.readmitCpuMs / Math.max(1, r.readmitted), 2), unit: 'ms' });
    report({ bench: ID, name: 'false_offline', value: r.falseOffline, unit: 'nodes' });
    report({ bench: ID, name: 'suspect_max', value: r.suspectMax, unit: 'nodes' });
    report({ bench: ID, name: 'grace_s', value: graceS, unit: 's' });
    report({ bench: ID, name: 'detected', value: seen.size, unit: 'nodes' });
    report({ bench: ID, name: 'detect_p50_s', value: round(percentile(detectS, 50), 1), unit: 's', anchor: 40, anchorLabel: 'Kubernetes 40-50 s', higherIsBetter: false });
    report({ bench: ID, name: 'detect_p99_s', value: round(percentile(detectS, 99), 1), unit: 's', anchor: 210, anchorLabel: 'Nomad 210-410 s at 10,000 nodes; target <= 30', higherIsBetter: false });
    report({ bench: ID, name: 'detect_false_offline', value: liveOffline.size, unit: 'nodes' });
  });
}

/**
 * SIGTERM the control plane, start it again on the same data dir and ports (with `next` settings),
 * and time until every agent is welcomed again, watching the database for nodes marked offline.
 */
async function measureRestart(old: ControlPlaneProcess, next: ControlPlaneSettings, sims: readonly Sim[], total: number, dbUrl: string, label: string) {
  await waitOnline(dbUrl, total, 30_000);
  const poller = pollLiveness(dbUrl);
  const before = await totals(sims);
  const t0 = Date.now();
  const stopMs = await old.stop();
  // A slow start under the reconnecting fleet is part of the figure (timed from SIGTERM), not a failure.
  const cp = await startControlPlaneProcess(next, 240_000);
  const tReady = Date.now();
  // The new process's CPU until it answered (database start, migrations, agents refused meanwhile),
  // then until the last agent was welcomed again.
  const startCpuUs = cpuUs(cp.pid);
  // Who else spends the 2 cores meanwhile: the simulators (they must not be the limit) and PostgreSQL.
  const simPids = sims.map((s) => s.child.pid ?? 0);
  const simCpuAtReady = cpuUsOf(simPids);
  const pgAtReady = new Map(descendants(cp.pid).map((p) => [p, cpuUsOf([p])]));
  const machineAtReady = machineCpu();
  log(ID, `restart (${label}): old process stopped in ${stopMs} ms after SIGTERM, new pid ${cp.pid} ready in ${cp.startMs} ms`);
  let lastLog = Date.now();
  const after = await waitReady(sims, total, 150_000, (s) => {
    if (Date.now() - lastLog > 5_000) {
      lastLog = Date.now();
      log(ID, `re-admitting: ${s.ready}/${total} (${((Date.now() - t0) / 1000).toFixed(0)} s after SIGTERM; token failures so far ${s.tokenFailures - before.tokenFailures})`);
    }
  });
  const readmitCpuUs = cpuUs(cp.pid) - startCpuUs;
  const simCpuUs = cpuUsOf(simPids) - simCpuAtReady;
  const pgCpuUs = descendants(cp.pid).reduce((sum, p) => sum + cpuUsOf([p]) - (pgAtReady.get(p) ?? 0), 0);
  const machine = machineCpu();
  const busyShare = 1 - (machine.idle - machineAtReady.idle) / Math.max(1, machine.total - machineAtReady.total);
  const spanS = (Date.now() - tReady) / 1000;
  const welcomeTimes = (await Promise.all(sims.map((s) => s.welcomeTimes()))).flatMap((m) => Object.values(m));
  const readmitted = welcomeTimes.filter((w) => w >= t0).sort((x, y) => x - y);
  const allBackAt = readmitted.length > 0 ? readmitted[readmitted.length - 1]! : Number.NaN;
  // Keep watching a few flushes more: a sweep that ran on stale heartbeats would show up now.
  await sleep(3_000 + Math.min(next.heartbeatSeconds, 5) * 1000);
  const watched = await poller.stop();
  const online = await waitOnline(dbUrl, total, 10_000).catch(() => -1);
  const r = {
    cp,
    stopMs,
    readmitted: readmitted.length,
    p50S: (percentile(readmitted, 50) - t0) / 1000,
    allS: (allBackAt - t0) / 1000,
    afterReadyS: (allBackAt - tReady) / 1000,
    falseOffline: watched.offline.size,
    suspectMax: watched.suspectMax,
    startCpuMs: startCpuUs / 1000,
    readmitCpuMs: readmitCpuUs / 1000,
  };
  log(
    ID,
    `restart (${label}): ${r.readmitted}/${total} re-admitted (welcome frames since SIGTERM: ${after.welcomes - before.welcomes}); ` +
      `p50 ${r.p50S.toFixed(1)} s, all ${r.allS.toFixed(1)} s after SIGTERM (${r.afterReadyS.toFixed(1)} s after the new process was ready); ` +
      `token failures ${after.tokenFailures - before.tokenFailures}, upgrade failures ${after.upgradeFailures - before.upgradeFailures}; ` +
      `database polls ${watched.polls} (${watched.failed} while it was down), nodes offline at any poll ${r.falseOffline}, ` +
      `most suspect at one poll ${r.suspectMax}; online at the end ${online}; control-plane CPU ${(r.startCpuMs / 1000).toFixed(1)} s until ready, ` +
      `then ${(r.readmitCpuMs / 1000).toFixed(1)} s until the last welcome (${(r.readmitCpuMs / Math.max(1, r.readmitted)).toFixed(2)} ms per re-admitted agent)`,
  );
  log(
    ID,
    `restart (${label}): CPU from ready to the last welcome (${spanS.toFixed(1)} s, 2 cores busy ${(busyShare * 100).toFixed(0)}%): control plane ${(readmitCpuUs / 1e6).toFixed(1)} s, ` +
      `its PostgreSQL ${(pgCpuUs / 1e6).toFixed(1)} s, simulators ${(simCpuUs / 1e6).toFixed(1)} s (${sims.length} processes)`,
  );
  const ph = { sessions: after.phaseMs.sessions - before.phaseMs.sessions, token: after.phaseMs.token - before.phaseMs.token, upgrade: after.phaseMs.upgrade - before.phaseMs.upgrade, welcome: after.phaseMs.welcome - before.phaseMs.welcome };
  const per = (ms: number) => (ms / Math.max(1, ph.sessions)).toFixed(0);
  const kinds = Object.entries(after.tokenFailureKinds).map(([k, v]) => `${k} ${v - (before.tokenFailureKinds[k] ?? 0)}`).join(', ');
  log(ID, `restart (${label}): a re-admitting session waited on average ${per(ph.token)} ms for its token, ${per(ph.upgrade)} ms for the upgrade, ${per(ph.welcome)} ms from hello to welcome; token failures by kind: ${kinds}`);
  log(ID, `restart (${label}): welcomes per 2 s after SIGTERM (ready at ${((tReady - t0) / 1000).toFixed(1)} s): ${histogram(readmitted.map((w) => w - t0), 2_000)}`);
  if (r.readmitted < total) log(ID, `WARNING: only ${r.readmitted} of ${total} agents re-admitted within the time limit; readmit_all_s is the last welcome seen`);
  return r;
}

/** Waits until the database shows `count` nodes online; returns how many are. */
async function waitOnline(dbUrl: string, count: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await query<{ n: string }>(dbUrl, `select count(*) as n from nodes where liveness = 'online' and revoked_at is null`);
    const n = Number(row?.n ?? 0);
    if (n >= count) return n;
    if (Date.now() > deadline) throw new Error(`only ${n} of ${count} nodes online in the database`);
    await sleep(250);
  }
}

/** Polls node liveness every 250 ms (a fresh connection each time: the database restarts too). */
function pollLiveness(dbUrl: string) {
  const offline = new Set<string>();
  let suspectMax = 0;
  let polls = 0;
  let failed = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      polls += 1;
      try {
        const rows = await query<{ id: string; liveness: string }>(dbUrl, `select id, liveness from nodes where liveness <> 'online' and revoked_at is null`);
        let suspect = 0;
        for (const r of rows) {
          if (r.liveness === 'offline') offline.add(r.id);
          else suspect += 1;
        }
        suspectMax = Math.max(suspectMax, suspect);
      } catch {
        failed += 1;
      }
      await sleep(250);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { offline, suspectMax, polls, failed };
    },
  };
}

/** "from-to s: count" for each non-empty bucket of `bucketMs`, in order. */
function histogram(msSince: readonly number[], bucketMs: number): string {
  const counts = new Map<number, number>();
  for (const ms of msSince) {
    const b = Math.floor(ms / bucketMs);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([b, n]) => `${(b * bucketMs) / 1000}-${((b + 1) * bucketMs) / 1000}: ${n}`)
    .join(', ');
}

/** Jiffies of all CPUs since boot, and of them idle (+ iowait), from /proc/stat. */
function machineCpu(): { total: number; idle: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { total: fields.reduce((a, b) => a + b, 0), idle: fields[3]! + fields[4]! };
}
