// hub-agents: a real control-plane process (embedded PostgreSQL, 30 s heartbeats) holding N
// authenticated simulated agents spread over several simulator processes and 127.0.0.x source
// addresses. Measured from outside: RSS per agent (/proc VmRSS, after a forced GC), CPU per
// heartbeat at a fixed aggregate rate (/proc stat utime+stime), and database commits per second
// (pg_stat_database.xact_commit).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { report } from '../report';
import { embeddedDatabaseUrl, forceGc, freePort, Inspector, sleep, startControlPlaneProcess } from './control-plane-process';
import { adminLogin, registerFleet } from './fleet';
import { envInt, log, round, tempDir, withResources } from './harness';
import { cpuUs, cpuUsOf, descendants, rssKb } from './proc';
import { startProfile, stopProfile, summarise } from './profile';
import { startSim, startSims, totals, waitReady, type Sim } from './sim-pool';

const ID = 'hub-agents';
const PER_SIM = 2_000;

interface Sample {
  at: number;
  cpCpuUs: number;
  dbCpuUs: Map<number, number>;
  heartbeats: number;
  xactCommit: number;
  /** next transaction id: advances once per transaction that wrote something */
  nextXid: number;
  tupUpdated: number;
}

export async function runHubAgents(): Promise<void> {
  const agents = envInt('HUB_AGENTS', 10_000);
  // 100,000 agents at one heartbeat per 30 s each: the aggregate rate the target fleet produces.
  const rate = envInt('HUB_HEARTBEATS_PER_S', 3_334);
  const windowS = envInt('HUB_WINDOW_S', 20);
  const simCount = Math.max(1, Math.ceil(agents / PER_SIM));
  const profile = process.env.HUB_PROFILE === '1';

  await withResources(async (res) => {
    const dataDir = tempDir(res, 'karvon-bench-hub-agents-');
    const [port, pgPort, inspectPort] = [await freePort(), await freePort(), await freePort()];
    const settings = { dataDir, port, pgPort, inspectPort, heartbeatSeconds: 30, graceSeconds: 90 };
    const cp = await startControlPlaneProcess(settings);
    res.add('control plane', async () => {
      await cp.stop();
    });
    log(ID, `control plane pid ${cp.pid} ready in ${cp.startMs} ms (port ${port}, embedded PostgreSQL ${pgPort}); ulimit -n ${fdLimit()}`);

    const admin = await adminLogin(cp.url);
    let t = Date.now();
    const regCpu0 = cpuUs(cp.pid);
    const fleet = await registerFleet(cp.url, admin, 'bench', agents);
    const registerS = (Date.now() - t) / 1000;
    log(
      ID,
      `registered ${agents} nodes through the API in ${registerS.toFixed(1)} s (${Math.round(agents / registerS)}/s; ` +
        `control-plane CPU ${((cpuUs(cp.pid) - regCpu0) / agents / 1000).toFixed(2)} ms per node, 2 requests each)`,
    );

    const db = new pg.Client({ connectionString: embeddedDatabaseUrl(dataDir, pgPort), application_name: 'karvon-bench' });
    db.on('error', () => undefined);
    await db.connect();
    res.add('database client', () => db.end());

    // Baseline: no agent connected, registration garbage collected.
    await sleep(2_000);
    const gc0 = await forceGc(inspectPort);
    const rss0 = rssKb(cp.pid)!;
    log(ID, `before: RSS ${(rss0 / 1024).toFixed(1)} MB, JS heap ${(gc0.heapUsedBytes / 1048576).toFixed(1)} MB`);

    const sims: Sim[] = await startSims(fleet, simCount, { baseUrl: cp.url, heartbeatMinBytes: 1_000, connectConcurrency: 32 });
    res.add('simulators', async () => {
      await Promise.all(sims.map((s) => s.stop()));
    });
    t = Date.now();
    const conCpu0 = cpuUs(cp.pid);
    await Promise.all(sims.map((s) => s.request({ cmd: 'connect' })));
    let lastLog = 0;
    // Every agent connected before anything is measured: a window with admissions still going on
    // would charge their cost to heartbeats (HUB_CONNECT_TIMEOUT_S bounds the wait).
    const connected = await waitReady(sims, agents, envInt('HUB_CONNECT_TIMEOUT_S', 420) * 1000, (s) => {
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(ID, `connecting: ${s.ready}/${agents} welcomed, CP RSS ${((rssKb(cp.pid) ?? 0) / 1024).toFixed(0)} MB`);
      }
    });
    const connectS = (Date.now() - t) / 1000;
    const conCpuMs = (cpuUs(cp.pid) - conCpu0) / 1000;
    log(
      ID,
      `${connected.ready}/${agents} agents welcomed in ${connectS.toFixed(1)} s (control-plane CPU ${(conCpuMs / Math.max(1, connected.ready)).toFixed(2)} ms per agent) over ${sims.length} simulator processes ` +
        `(${sims.map((s) => s.localAddress).join(', ')}); token failures ${connected.tokenFailures}, upgrade failures ${connected.upgradeFailures}, ` +
        `closes ${connected.closes}, error frames ${JSON.stringify(connected.errorFrames)}; simulators' RSS ${(connected.rssKb / 1024).toFixed(0)} MB`,
    );
    if (connected.ready < agents) log(ID, `WARNING: only ${connected.ready} of ${agents} agents connected; figures are per connected agent`);
    const n = connected.ready;
    if (n === 0) throw new Error('no agent connected');

    await sleep(3_000);
    const gc1 = await forceGc(inspectPort);
    const rss1 = rssKb(cp.pid)!;
    const fds = openFds(cp.pid);
    const kbPerAgent = (rss1 - rss0) / n;
    const heapKbPerAgent = (gc1.heapUsedBytes - gc0.heapUsedBytes) / 1024 / n;
    log(ID, `after: RSS ${(rss1 / 1024).toFixed(1)} MB, JS heap ${(gc1.heapUsedBytes / 1048576).toFixed(1)} MB, ${fds} open descriptors`);

    // Two windows: the fleet's own 30 s heartbeats (background), then a fixed aggregate rate.
    const sample = async (): Promise<Sample> => {
      const s = await totals(sims);
      const row = (
        await db.query<{ xact_commit: string; tup_updated: string; xmax: string }>(
          `select xact_commit, tup_updated, pg_snapshot_xmax(pg_current_snapshot())::text as xmax from pg_stat_database where datname = current_database()`,
        )
      ).rows[0]!;
      const dbPids = descendants(cp.pid);
      return {
        at: performance.now(),
        cpCpuUs: cpuUs(cp.pid),
        dbCpuUs: new Map(dbPids.map((p) => [p, cpuUsOf([p])])),
        heartbeats: s.heartbeats,
        xactCommit: Number(row.xact_commit),
        nextXid: Number(row.xmax),
        tupUpdated: Number(row.tup_updated),
      };
    };
    const window = async (perSecond: number, seconds: number) => {
      const welcomes0 = (await totals(sims)).welcomes;
      const a = await sample();
      if (perSecond > 0) await Promise.all(sims.map((s) => s.request({ cmd: 'rate', perSecond: perSecond / sims.length })));
      await sleep(seconds * 1000);
      if (perSecond > 0) await Promise.all(sims.map((s) => s.request({ cmd: 'rate', perSecond: 0 })));
      await sleep(1_000); // frames in flight processed, the last batch flushed
      const b = await sample();
      let dbCpu = 0;
      for (const [p, us] of b.dbCpuUs) dbCpu += us - (a.dbCpuUs.get(p) ?? 0);
      const elapsedS = (b.at - a.at) / 1000;
      const admitted = (await totals(sims)).welcomes - welcomes0;
      if (admitted > 0) log(ID, `WARNING: ${admitted} agents were (re)admitted during this window; its CPU includes their admission`);
      return {
        elapsedS,
        heartbeats: b.heartbeats - a.heartbeats,
        cpUs: b.cpCpuUs - a.cpCpuUs,
        dbUs: dbCpu,
        xacts: b.xactCommit - a.xactCommit,
        writeXacts: b.nextXid - a.nextXid,
        tupUpdated: b.tupUpdated - a.tupUpdated,
      };
    };
    const bg = await window(0, 10);
    log(ID, `background window: ${bg.heartbeats} heartbeats in ${bg.elapsedS.toFixed(1)} s, CP CPU ${(bg.cpUs / 1000).toFixed(0)} ms, ${bg.xacts} commits (${bg.writeXacts} that wrote)`);
    const hb = await window(rate, windowS);
    const hbSize = (await sims[0]!.stats()).heartbeatBytes;
    const after = await totals(sims);
    log(
      ID,
      `heartbeat window: ${hb.heartbeats} heartbeats of ${hbSize} B in ${windowS} s (${Math.round(hb.heartbeats / windowS)}/s; measured over ${hb.elapsedS.toFixed(1)} s with the settle), ` +
        `CP CPU ${(hb.cpUs / 1000).toFixed(0)} ms (${((hb.cpUs / 1e6 / hb.elapsedS) * 100).toFixed(0)}% of a core), PostgreSQL CPU ${(hb.dbUs / 1000).toFixed(0)} ms, ` +
        `${hb.xacts} commits (${hb.writeXacts} that wrote), ${hb.tupUpdated} rows updated; agents still ready ${after.ready}, error frames ${JSON.stringify(after.errorFrames)}`,
    );

    const usPerHb = hb.cpUs / hb.heartbeats;
    const bgRate = bg.cpUs / bg.elapsedS;
    const marginal = (hb.cpUs - bgRate * hb.elapsedS) / (hb.heartbeats - (bg.heartbeats / bg.elapsedS) * hb.elapsedS);
    const xactPerS = hb.xacts / hb.elapsedS;

    report({ bench: ID, name: 'register_s', value: round(registerS, 1), unit: 's' });
    report({ bench: ID, name: 'connect_s', value: round(connectS, 1), unit: 's' });
    report({ bench: ID, name: 'agents', value: n, unit: 'agents', anchor: 20_000, anchorLabel: 'KubeEdge per gateway; target 100,000, sandbox fd cap', higherIsBetter: true });
    report({ bench: ID, name: 'rss_kb_per_agent', value: round(kbPerAgent), unit: 'KB', anchor: 5.3, anchorLabel: 'naive ws + JSON; target <= 10', higherIsBetter: false });
    report({ bench: ID, name: 'heap_kb_per_agent', value: round(heapKbPerAgent), unit: 'KB' });
    report({ bench: ID, name: 'rss_mb_at_100k', value: round((rss0 + kbPerAgent * 100_000) / 1024, 0), unit: 'MB', anchor: round((rss0 + 5.3 * 100_000) / 1024, 0), anchorLabel: 'same base + naive 5.3 KB/agent', higherIsBetter: false });
    report({ bench: ID, name: 'heartbeat_bytes', value: hbSize, unit: 'B' });
    report({ bench: ID, name: 'heartbeats_per_s', value: Math.round(hb.heartbeats / windowS), unit: '1/s', anchor: 50, anchorLabel: 'Nomad leader heartbeat budget', higherIsBetter: true });
    report({ bench: ID, name: 'cpu_us_per_heartbeat', value: round(usPerHb), unit: 'us', anchor: 31, anchorLabel: 'naive ws + JSON; target <= 10', higherIsBetter: false });
    report({ bench: ID, name: 'cpu_us_per_heartbeat_marginal', value: round(marginal), unit: 'us', anchor: 31, anchorLabel: 'naive ws + JSON; background CPU subtracted', higherIsBetter: false });
    report({ bench: ID, name: 'db_cpu_us_per_heartbeat', value: round(hb.dbUs / hb.heartbeats), unit: 'us' });
    report({ bench: ID, name: 'db_xact_per_s', value: round(xactPerS), unit: '1/s', anchor: Math.round(hb.heartbeats / windowS), anchorLabel: 'naive: one commit per heartbeat; target <= 1', higherIsBetter: false });
    report({ bench: ID, name: 'db_write_xact_per_s', value: round(hb.writeXacts / hb.elapsedS), unit: '1/s', anchor: Math.round(hb.heartbeats / windowS), anchorLabel: 'naive: one commit per heartbeat; target <= 1', higherIsBetter: false });
    console.log(
      `  note: db_xact_per_s is pg_stat_database.xact_commit as-is: every commit in the control plane's database, read-only ones too ` +
        `(the liveness flush, the dispatcher's polling, pool checks, this benchmark's own reads; background window ${(bg.xacts / bg.elapsedS).toFixed(2)}/s), ` +
        `and PostgreSQL publishes a backend's counters up to ~10 s late. db_write_xact_per_s counts transactions that wrote ` +
        `(advance of the next transaction id): the liveness flush, one per second whatever the fleet size (background window ${(bg.writeXacts / bg.elapsedS).toFixed(2)}/s).`,
    );
    if (profile) await profilePhases(cp.url, admin, inspectPort, sims, rate, dataDir);
  });
}

/**
 * HUB_PROFILE=1: after the measured windows, profile (through the inspector) a heartbeat window at
 * the same rate, the registration of 300 more nodes and their connection, and print the top frames.
 */
async function profilePhases(baseUrl: string, admin: string, inspectPort: number, sims: Sim[], rate: number, dir: string): Promise<void> {
  const insp = await Inspector.open(inspectPort);
  try {
    const hb0 = (await totals(sims)).heartbeats;
    await startProfile(insp);
    await Promise.all(sims.map((s) => s.request({ cmd: 'rate', perSecond: rate / sims.length })));
    await sleep(10_000);
    await Promise.all(sims.map((s) => s.request({ cmd: 'rate', perSecond: 0 })));
    await sleep(1_000);
    let p = await stopProfile(insp, path.join(dir, 'heartbeats.cpuprofile'));
    const heartbeats = (await totals(sims)).heartbeats - hb0;
    summarise(p, `${heartbeats} heartbeats at ${rate}/s (profiler on)`, { count: heartbeats, unit: 'heartbeat' });

    const extra = 300;
    await startProfile(insp);
    const more = await registerFleet(baseUrl, admin, 'profiled', extra, 16);
    p = await stopProfile(insp);
    summarise(p, `registration of ${extra} nodes (2 requests each)`, { count: extra, unit: 'node' });

    const sim = await startSim('127.0.0.250', more, { baseUrl, heartbeatMinBytes: 1_000, connectConcurrency: 32 });
    try {
      await startProfile(insp);
      await sim.request({ cmd: 'connect' });
      await waitReady([sim], extra, 60_000);
      p = await stopProfile(insp);
      summarise(p, `connection of ${extra} agents (token, upgrade, hello, welcome, first heartbeat)`, { count: extra, unit: 'agent' });
    } finally {
      await sim.stop();
    }
  } finally {
    insp.close();
  }
}

function fdLimit(): string {
  const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m ? m[1]! : '?';
}

function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}
