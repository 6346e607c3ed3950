// The container runtime against a real Docker engine (local images, no registry), in process:
// hardened containers, health-gated rollout, a release that never gets healthy, crash loops,
// stop/start through desired state, re-adoption by a new runtime, and removal. Each test builds on
// the previous one's state, as a deploy history would.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { heartbeatPayloadSchema, type AllocationStatus, type DesiredAllocation } from '@karvon/protocol';
import { sampleHeartbeat } from '../../../test/agents';
import { createRuntime, type Runtime, type RuntimeOptions } from '../src/runtime/runtime';
import { ensureBaseImages, BUSYBOX_IMAGE } from '../../../test/docker/base-images';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { eventually } from '../../../test/eventually';
import { buildFixtureImages, execIn, fetchText, fixtureAllocation, removeNodeObjects, testPortRange } from './runtime-fixtures';

const nodeId = `node-rt-${randomUUID().slice(0, 8)}`;
const logger = pino({ level: process.env.KARVON_TEST_LOG_LEVEL ?? 'silent' });

const hello = fixtureAllocation('alloc-hello-1', 'node-hello', { limits: { cpuMillicores: 500, memoryMb: 96, pids: 64 } });
const slow = fixtureAllocation('alloc-slow-2', 'slow-start', { releaseNumber: 2, env: { START_DELAY_MS: '2000' }, healthCheck: { type: 'http', path: '/', timeoutMs: 1_000 } });
const never = fixtureAllocation('alloc-never-3', 'slow-start', {
  releaseNumber: 3,
  command: ['sh', '-c', 'echo booting release 3; echo still not listening >&2; exec sleep 600'],
});
const crash = fixtureAllocation('alloc-crash-1', 'crash-loop', { appId: 'app_crash', healthCheck: { type: 'tcp' } });

await describeDocker('container runtime', () => {
  let docker: Docker;
  let stateDir: string;
  let runtime: Runtime;
  let options: RuntimeOptions;
  const foreign: string[] = [];

  const statusOf = (id: string): AllocationStatus | undefined => runtime.statuses().find((s) => s.allocationId === id);
  const containerOf = async (allocationId: string) => {
    const [c] = await docker.listContainers({ all: true, filters: { label: [`karvon.node=${nodeId}`, `karvon.allocation=${allocationId}`] } });
    return c ? docker.getContainer(c.Id).inspect() : undefined;
  };
  const converge = (allocations: DesiredAllocation[]) => runtime.setDesired(allocations);

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    await buildFixtureImages(docker);
    stateDir = await mkdtemp(path.join(tmpdir(), 'karvon-runtime-'));
    options = {
      docker,
      nodeId,
      stateDir,
      advertiseAddr: '127.0.0.1',
      portRange: testPortRange(),
      healthDeadlineMs: 6_000,
      drainMs: 300,
      logger,
      crash: { windowMs: 5 * 60_000, maxRestarts: 3, backoffBaseMs: 300, backoffMaxMs: 5_000 },
      retryMs: 1_000,
      busyIntervalMs: 200,
      idleIntervalMs: 1_000,
    };
    runtime = createRuntime(options);
    await runtime.load();
    runtime.start();
  });

  afterAll(async () => {
    await runtime?.stop();
    if (docker) {
      await removeNodeObjects(docker, nodeId);
      await Promise.all(foreign.map((id) => docker.getContainer(id).remove({ force: true }).catch(() => undefined)));
    }
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('runs a desired allocation as a hardened container on its tenant network', async () => {
    converge([hello]);
    const status = await eventually(() => {
      const s = statusOf(hello.id);
      expect(s).toMatchObject({ state: 'healthy', restarts: 0 });
      return s!;
    }, 20_000);
    expect(status.upstream).toMatch(/^127\.0\.0\.1:\d+$/);
    // The image's non-root user is kept; env and PORT reach the app.
    expect(JSON.parse(await fetchText(`http://${status.upstream}/`))).toMatchObject({ greeting: 'hi', uid: 1000 });

    // The plan's CPU limit replaces the startup boost in the pass that found it healthy, right
    // after that pass announced the state.
    const info = await eventually(async () => {
      const i = (await containerOf(hello.id))!;
      expect(i.HostConfig.NanoCpus).toBe(500_000_000);
      return i;
    }, 5_000);
    const hc = info.HostConfig as Docker.HostConfig & { UsernsMode?: string; UTSMode?: string; CgroupnsMode?: string };
    expect(hc.CapDrop).toEqual(['ALL']);
    expect(hc.CapAdd ?? []).toEqual([]);
    expect(hc.SecurityOpt).toEqual(['no-new-privileges:true']);
    expect(hc.Privileged).toBe(false);
    expect(hc.NetworkMode).toMatch(/^karvon-usr_a-[0-9a-f]{10}$/);
    expect([hc.PidMode, hc.IpcMode, hc.UTSMode, hc.UsernsMode]).toEqual(['', 'private', '', '']);
    expect(hc.Binds ?? []).toEqual([]);
    expect(info.Mounts).toEqual([]);
    expect(hc.Devices ?? []).toEqual([]);
    expect([hc.Memory, hc.MemorySwap, hc.NanoCpus, hc.PidsLimit]).toEqual([96 * 1024 * 1024, 96 * 1024 * 1024, 500_000_000, 64]);
    expect(hc.RestartPolicy).toMatchObject({ Name: 'no' });
    expect(hc.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
    expect(hc.PortBindings).toEqual({ '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: status.upstream!.split(':')[1] }] });
    expect(hc.ReadonlyRootfs).toBe(false);
    expect(info.Config.User).toBe('1000');
    expect(info.Config.Labels).toMatchObject({ 'karvon.managed': 'true', 'karvon.node': nodeId, 'karvon.allocation': hello.id, 'karvon.app': 'app_web', 'karvon.tenant': 'usr_a', 'karvon.release': hello.releaseId });
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([hc.NetworkMode]);
    // From inside: no capabilities, no_new_privs set, no docker socket.
    const proc = await execIn(docker, info.Id, ['sh', '-c', 'grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; ls /var/run/docker.sock 2>&1; id -u']);
    expect(proc.output).toMatch(/CapEff:\s+0{16}/);
    expect(proc.output).toMatch(/CapBnd:\s+0{16}/);
    expect(proc.output).toMatch(/NoNewPrivs:\s+1/);
    expect(proc.output).toMatch(/docker\.sock: No such file or directory/);
    expect(proc.output.trim().endsWith('1000')).toBe(true);
    // Heartbeat numbers: the first report after a change of state goes without collecting (the
    // numbers of the last collection: none yet); then memory at once, CPU from the second sample on.
    const [early] = await runtime.report();
    expect(early).toMatchObject({ allocationId: hello.id, state: 'healthy' });
    expect(early?.memoryMb).toBeUndefined();
    await runtime.report();
    const [reported] = await runtime.report();
    expect(reported).toMatchObject({ allocationId: hello.id, state: 'healthy', restarts: 0, containerId: info.Id });
    expect(reported?.memoryMb).toBeGreaterThan(1);
    expect(reported?.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(heartbeatPayloadSchema.safeParse({ sentAt: new Date().toISOString(), appliedGeneration: 1, usage: sampleHeartbeat().usage, allocations: [reported] }).success).toBe(true);
    const net = await docker.getNetwork(hc.NetworkMode!).inspect() as { Labels: Record<string, string>; Options: Record<string, string>; Internal: boolean };
    expect(net.Labels).toEqual({ 'karvon.managed': 'true', 'karvon.node': nodeId, 'karvon.tenant': 'usr_a' });
    expect(net.Options['com.docker.network.bridge.name']).toMatch(/^kv-[0-9a-f]{12}$/);
  });

  it('never touches containers it does not own, even ones that look like Karvon', async () => {
    const plain = await docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: ['sleep', '300'], Labels: { 'karvon.test.run': nodeId } });
    const otherNode = await docker.createContainer({
      Image: BUSYBOX_IMAGE,
      Cmd: ['sleep', '300'],
      Labels: { 'karvon.managed': 'true', 'karvon.node': `${nodeId}-other`, 'karvon.allocation': hello.id, 'karvon.tenant': 'usr_a' },
    });
    foreign.push(plain.id, otherNode.id);
    await Promise.all([plain.start(), otherNode.start()]);
    const before = await Promise.all([plain.inspect(), otherNode.inspect()]);
    // An empty desired state would remove everything this node owns, so it is the sharpest test.
    converge([]);
    await eventually(async () => expect(await containerOf(hello.id)).toBeUndefined(), 15_000);
    for (let i = 0; i < 3; i++) await runtime.reconcileOnce();
    const after = await Promise.all([plain.inspect(), otherNode.inspect()]);
    for (const [i, a] of after.entries()) {
      expect(a.State.Running).toBe(true);
      expect(a.State.StartedAt).toBe(before[i]!.State.StartedAt);
    }
    expect(runtime.statuses().map((s) => s.allocationId)).toEqual([]);
  });

  it('rolls out a slow starter beside the old release, routes to it only once it listens, then drains the old', async () => {
    converge([hello]);
    const old = await eventually(() => {
      const s = statusOf(hello.id);
      expect(s?.state).toBe('healthy');
      return s!;
    }, 20_000);
    converge([slow]);
    const seen = { startingWithoutUpstream: 0, oldServedMeanwhile: 0 };
    const deadline = Date.now() + 20_000;
    let upstream: string | undefined;
    while (Date.now() < deadline && !upstream) {
      const s = statusOf(slow.id);
      if (s?.upstream) {
        upstream = s.upstream;
        break;
      }
      if (s?.state === 'starting') seen.startingWithoutUpstream++;
      if ((await fetchText(`http://${old.upstream}/`)).includes('"greeting"')) seen.oldServedMeanwhile++;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(upstream, 'the new release never got an upstream').toBeDefined();
    // The moment an upstream is reported, the app answers on it.
    expect(await fetchText(`http://${upstream}/`)).toBe('slow but ready\n');
    expect(seen.startingWithoutUpstream).toBeGreaterThan(5);
    expect(seen.oldServedMeanwhile).toBeGreaterThan(5);
    await eventually(async () => {
      expect(await containerOf(hello.id)).toBeUndefined();
      expect(statusOf(hello.id)).toBeUndefined();
    }, 15_000);
    expect(await fetchText(`http://${old.upstream}/`)).toMatch(/^!/);
  });

  it('keeps the old release serving when the new one never gets healthy, and reports why', async () => {
    const serving = (statusOf(slow.id))!;
    converge([never]);
    const failed = await eventually(() => {
      const s = statusOf(never.id);
      expect(s?.state).toBe('failed');
      return s!;
    }, 20_000);
    expect(failed.message).toMatch(/^unhealthy: not healthy 6 s after start/);
    expect(failed.message).toContain('booting release 3');
    expect(failed.message).toContain('still not listening');
    expect(failed).not.toHaveProperty('upstream');
    // Recorded first, then stopped (an agent killed in between still knows it failed).
    await eventually(async () => expect((await containerOf(never.id))?.State.Running).toBe(false), 15_000);
    // The old one: still running, still routed, still answering.
    expect(statusOf(slow.id)).toMatchObject({ state: 'healthy', upstream: serving.upstream });
    expect(await fetchText(`http://${serving.upstream}/`)).toBe('slow but ready\n');
  });

  it('restarts a crashing app with backoff and stops at the crash-loop limit', async () => {
    converge([slow, crash]);
    const failed = await eventually(() => {
      const s = statusOf(crash.id);
      expect(s?.state).toBe('crash-loop');
      return s!;
    }, 30_000);
    expect(failed.message).toMatch(/^crash-loop: exit code 3, oom false, exited after 3 restarts in 5 min/);
    expect(failed.message).toContain('about to crash');
    expect(failed.restarts).toBe(3);
    const stoppedAt = (await containerOf(crash.id))!.State;
    await new Promise((r) => setTimeout(r, 1_500));
    const later = (await containerOf(crash.id))!.State;
    expect([later.Running, later.StartedAt]).toEqual([false, stoppedAt.StartedAt]);
    expect(statusOf(slow.id)).toMatchObject({ state: 'healthy' });
  });

  it('stops and starts an allocation through its desired status', async () => {
    converge([{ ...slow, desiredStatus: 'stopped' }]);
    await eventually(() => expect(statusOf(slow.id)).toMatchObject({ state: 'stopped' }), 20_000);
    expect((await containerOf(slow.id))?.State.Running).toBe(false);
    converge([slow]);
    const s = await eventually(() => {
      const st = statusOf(slow.id);
      expect(st).toMatchObject({ state: 'healthy', restarts: 0 });
      return st!;
    }, 20_000);
    expect(await fetchText(`http://${s.upstream}/`)).toBe('slow but ready\n');
  });

  it('re-adopts running containers in a new runtime without restarting them', async () => {
    const before = (await containerOf(slow.id))!;
    await runtime.stop();
    runtime = createRuntime(options);
    await runtime.load();
    runtime.setDesired([slow]);
    const actions = [...(await runtime.reconcileOnce()), ...(await runtime.reconcileOnce())];
    expect(actions.filter((a) => a.kind !== 'forget' && a.kind !== 'remove-container' && a.kind !== 'drain')).toEqual([]);
    const after = (await containerOf(slow.id))!;
    expect([after.Id, after.State.StartedAt, after.State.Running]).toEqual([before.Id, before.State.StartedAt, true]);
    expect(statusOf(slow.id)).toMatchObject({ state: 'healthy', containerId: before.Id });
    runtime.start();
  });

  it("removes a removed allocation's container, network and port", async () => {
    const { upstream } = (statusOf(slow.id))!;
    converge([]);
    await eventually(async () => {
      expect(await docker.listContainers({ all: true, filters: { label: [`karvon.node=${nodeId}`] } })).toEqual([]);
      expect(await docker.listNetworks({ filters: { label: [`karvon.node=${nodeId}`] } })).toEqual([]);
      const ports = JSON.parse(await readFile(path.join(stateDir, 'runtime', 'ports.json'), 'utf8')) as { ports: Record<string, number> };
      expect(ports.ports).toEqual({});
    }, 20_000);
    expect(await fetchText(`http://${upstream}/`)).toMatch(/^!/);
    expect(runtime.statuses()).toEqual([]);
  });
});
