// deploy-overhead (docs: ../shared/design/BENCHMARKS.md): a signed git-push webhook → the app
// answering through its route, versus the same commit built and run by hand (raw-deploy.ts:
// `git clone`, `docker build` with the same generated Dockerfile, `docker run`) on the same engine,
// measured in the same run, alternating which goes first. The built control plane runs as its own
// process (embedded PostgreSQL) with the production heartbeat (30 s), one real agent against this
// host's engine, the loopback HTTPS git server of the tests, the node-hello fixture. Each round
// commits a new greeting (a marker), so both paths rebuild the layer holding the code and the
// earlier layers are cached for both; round 0 warms the caches and is not reported.
// Knobs: DEPLOY_ROUNDS (9, measured: one docker build varies by ±0.4 s on the 2-core machine,
// so the median of the per-round differences needs that many), DEPLOY_HEARTBEAT_S (30).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { appHook, signedPush, startAgent } from '../../apps/agent/test/git-deploy-harness';
import { ApiClient } from '../../test/api-client';
import { ensureBaseImages } from '../../test/docker/base-images';
import { startGitServer } from '../../test/git/git-server';
import { ensureCatalog, registerCustomer } from '../../test/customers';
import { ADMIN, ensureBuilt, freePort, REPO_ROOT, sleep, startControlPlaneProcess } from '../hub/control-plane-process';
import { listRegionNodes } from '../hub/fleet';
import { envInt, log, percentile, round, tempDir, withResources } from '../hub/harness';
import { report } from '../report';
import { answering, rawDeploy, type RawResult } from './raw-deploy';
import { routeWatcher } from './route-upstreams';

const ID = 'deploy-overhead';
const REGION = 'bench-deploy';
const APPS_DOMAIN = 'apps.karvon.io';
const FIXTURE = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'apps', 'node-hello');

interface Round {
  karvonS: number;
  raw: RawResult;
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

export async function runDeployOverhead(): Promise<void> {
  const rounds = envInt('DEPLOY_ROUNDS', 9);
  const heartbeatS = envInt('DEPLOY_HEARTBEAT_S', 30);
  await ensureBuilt();
  const docker = new Docker();
  await ensureBaseImages(docker);
  const serverJs = await readFile(path.join(FIXTURE, 'server.js'), 'utf8');
  if (!serverJs.includes("'hello from karvon'")) throw new Error('node-hello fixture changed: its greeting is the marker this benchmark replaces');

  await withResources(async (res) => {
    const git = await startGitServer();
    res.add('git server', () => git.close());
    const cp = await startControlPlaneProcess({
      dataDir: tempDir(res, 'karvon-bench-deploy-'),
      port: await freePort(),
      pgPort: await freePort(),
      heartbeatSeconds: heartbeatS,
      graceSeconds: 90,
      env: {
        // one node, busy building: never refused as degraded
        KARVON_DEGRADED_PERCENT: '100',
        KARVON_APPS_DOMAIN: APPS_DOMAIN,
        KARVON_MUTATIONS_PER_MINUTE: '10000',
        KARVON_MUTATION_BURST: '10000',
      },
    });
    res.add('control plane', async () => {
      await cp.stop();
    });
    log(ID, `control plane pid ${cp.pid} ready in ${cp.startMs} ms; heartbeat ${heartbeatS} s`);
    const api = new ApiClient(cp.url);
    const login = await api.login(ADMIN.email, ADMIN.password);
    if (login.status !== 200) throw new Error(`admin login: ${login.status}`);
    const admin = api.as(login.body.accessToken);
    await ensureCatalog(admin, REGION);
    const agent = await startAgent(cp, admin, git, docker, REGION, 'bench');
    res.add('agent', () => agent.stop());
    const adminToken = login.body.accessToken;
    for (let waited = 0; !(await listRegionNodes(cp.url, adminToken, REGION)).some((n) => n.id === agent.nodeId && n.liveness === 'online'); waited += 200) {
      if (waited > 60_000) throw new Error(`the agent did not come online:\n${agent.proc.output().slice(-3000)}`);
      await sleep(200);
    }
    const customer = await registerCustomer(api, 'deploy-bench', { admin, tier: 'business' });
    const project = await customer.api.post<{ id: string }>('/api/v1/projects', { name: 'bench' });
    const created = await customer.api.post<{ id: string; name: string }>('/api/v1/apps', {
      projectId: project.body.id,
      name: 'hello',
      region: REGION,
      planId: 'small',
      replicas: 1,
      source: { type: 'git', url: git.url('hello'), branch: 'main' },
      healthCheck: { type: 'http', path: '/healthz' },
    });
    if (created.status !== 201) throw new Error(`create app: ${created.status} ${JSON.stringify(created.body)}`);
    const appId = created.body.id;
    const hostname = `hello.${REGION}.${APPS_DOMAIN}`;
    const hook = await appHook(customer.api, appId);

    const karvonDeploy = async (marker: string, sha: string): Promise<number> => {
      const t0 = performance.now();
      const pushed = await signedPush(cp.url, hook, sha);
      if (pushed.status !== 202) throw new Error(`push: ${pushed.status} ${JSON.stringify(pushed.body)}`);
      // The route answering with the new code ends the clock; a deploy that ended otherwise stops it.
      const failed = (async () => {
        for (;;) {
          await sleep(1_000);
          const d = await customer.api.get<{ status: string }>(`/api/v1/deploys/${pushed.body.deployId}`);
          if (d.body.status === 'failed' || d.body.status === 'cancelled') throw new Error(`deploy ${d.body.status}: ${JSON.stringify(d.body)}\n${agent.proc.output().slice(-3000)}`);
          if (d.body.status === 'succeeded') return;
        }
      })();
      const answer = answering(routeWatcher(agent.stateDir, hostname), marker, 300_000);
      answer.catch(() => undefined); // when the deploy failed first, its rejection is the one reported
      await Promise.race([answer, failed.then(() => new Promise<never>(() => undefined))]);
      const seconds = (performance.now() - t0) / 1000;
      await failed; // settled: the previous release is retired before the next round
      // Where the time went, by the deploy's own phases (wall clock of the control plane).
      const d = await customer.api.get<{ phases: Array<{ name: string; startedAt: string; endedAt: string | null }> }>(`/api/v1/deploys/${pushed.body.deployId}`);
      const phases = d.body.phases.map((p) => `${p.name} ${p.endedAt ? ((Date.parse(p.endedAt) - Date.parse(p.startedAt)) / 1000).toFixed(2) : '…'}`);
      log(ID, `  karvon phases: ${phases.join(', ')}`);
      return seconds;
    };

    const measured: Round[] = [];
    for (let i = 0; i <= rounds; i++) {
      const marker = `bench-${i}-${Math.random().toString(36).slice(2, 8)}`;
      const sha = await git.commit('hello', { fromDir: FIXTURE, files: { 'server.js': serverJs.replace("'hello from karvon'", `'${marker}'`) } });
      const rawMarker = `${marker}-raw`;
      const rawSha = await git.commit('hello-raw', { fromDir: FIXTURE, files: { 'server.js': serverJs.replace("'hello from karvon'", `'${rawMarker}'`) } });
      const rawSrc = { url: git.url('hello-raw'), sha: rawSha, caFile: git.caFile };
      let karvonS: number;
      let raw: RawResult;
      if (i % 2 === 0) {
        karvonS = await karvonDeploy(marker, sha);
        raw = await rawDeploy(rawSrc, rawMarker, await freePort());
      } else {
        raw = await rawDeploy(rawSrc, rawMarker, await freePort());
        karvonS = await karvonDeploy(marker, sha);
      }
      log(ID, `round ${i}${i === 0 ? ' (warm-up, not counted)' : ''}: karvon ${karvonS.toFixed(2)} s; raw ${raw.totalS.toFixed(2)} s (clone ${raw.cloneS.toFixed(2)}, build ${raw.buildS.toFixed(2)}, run → answering ${raw.startS.toFixed(2)})`);
      if (i > 0) measured.push({ karvonS, raw });
    }

    const karvon = median(measured.map((r) => r.karvonS));
    const raw = median(measured.map((r) => r.raw.totalS));
    const overhead = median(measured.map((r) => r.karvonS - r.raw.totalS));
    report({ bench: ID, name: 'karvon_push_to_answer_s', value: round(karvon, 2), unit: 's', anchor: 120, anchorLabel: 'seed target < 2 min', higherIsBetter: false });
    report({ bench: ID, name: 'raw_build_run_s', value: round(raw, 2), unit: 's' });
    report({ bench: ID, name: 'overhead_s', value: round(overhead, 2), unit: 's', anchor: 2, anchorLabel: 'target <= 2 s', higherIsBetter: false });
    report({ bench: ID, name: 'overhead_pct', value: round((overhead / raw) * 100, 1), unit: '%', anchor: 10, anchorLabel: 'target <= 10% of raw', higherIsBetter: false });
    log(ID, `medians of ${measured.length} rounds; Dokku waits a fixed 10 s before switching, Heroku allows 60 s to boot`);
  });
}
