// Runtime logs end to end: a real control plane, a real agent process and a real container.
// Tail + follow, a stream without follow that ends with its task, a slow consumer that bounds what
// the agent sends (its window of un-credited chunks), and an abort that stops the agent's reading.
import type Docker from 'dockerode';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { LOG_STREAM_WINDOW_CHUNKS } from '@karvon/protocol';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureBaseImages } from '../../../test/docker/base-images';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { eventually } from '../../../test/eventually';
import { createAppFixture } from '../../../test/fixtures';
import type { LogLine } from '../../control-plane/src/logs/log-streams';
import { startRealAgent, type RealAgent } from './real-agent';

const REGION = 'logs-1';
// 300 numbered lines at once, one line on stderr, then a tick every 50 ms, for ever. The server
// starts listening only after 10 ticks: the replica is healthy (and the first stream asked for)
// no sooner than that, so a tail of 5 is ticks only however fast the health probe is.
const SCRIPT = [
  'i=0; while [ $i -lt 300 ]; do echo "out $i"; i=$((i+1)); done',
  'echo "to stderr" >&2',
  'while [ $i -lt 310 ]; do echo "tick $i"; i=$((i+1)); sleep 0.05; done',
  'httpd -p 8080 -h /tmp',
  'while :; do echo "tick $i"; i=$((i+1)); sleep 0.05; done',
].join('; ');

interface StreamResult { ended: string; chunks: number; lines: number; maxInFlight: number }

await describeDocker('runtime log streaming', () => {
  let docker: Docker;
  let cp: TestControlPlane;
  let nodeId = '';
  let allocationId = '';
  let agent: RealAgent;

  /** the agent's own account of a finished stream, from its log */
  const agentStreamEnd = async (taskId: string): Promise<StreamResult> => {
    await agent.proc.waitForOutput(new RegExp(`"taskId":"${taskId}".*log stream ended`), 15_000);
    const line = agent.proc.output().split('\n').find((l) => l.includes(`"taskId":"${taskId}"`) && l.includes('log stream ended'))!;
    return JSON.parse(line) as StreamResult;
  };
  const lastStreamTask = () => cp.db('tasks').where({ kind: 'stream-logs', node_id: nodeId }).orderBy('created_at', 'desc').first<{ id: string; state: string; result: unknown }>();

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    cp = await startTestControlPlane({ KARVON_HEARTBEAT_SECONDS: '1', KARVON_NODE_GRACE_SECONDS: '30', KARVON_DEGRADED_PERCENT: '100' });
    agent = await startRealAgent({
      controlPlaneUrl: cp.url,
      admin: await cp.adminClient(),
      docker,
      region: REGION,
      name: 'logs',
      env: { KARVON_HEALTH_DEADLINE_SECONDS: '600', KARVON_TENANT_FIREWALL: 'false' },
    });
    nodeId = agent.nodeId;
    await eventually(() => expect(cp.hub.sessionGeneration(nodeId)).toBeDefined(), 15_000);
    const app = await createAppFixture(cp.db, REGION);
    const placed = await cp.planner.placeReplicas({
      appId: app.appId,
      releaseId: app.releaseId,
      region: REGION,
      resources: { cpuMillicores: 100, memoryMb: 64, diskMb: 10 },
      replicas: 1,
      spec: { ...app.spec, command: ['sh', '-c', SCRIPT] },
    });
    if (!placed.ok) throw new Error('placement failed');
    allocationId = placed.allocations[0]!.id;
    await agent.proc.waitForOutput(/allocation healthy/, 30_000);
  });

  // Each stream needs the node's session in this process (a reconnect in between is waited for).
  beforeEach(async () => {
    await eventually(() => expect(cp.hub.sessionGeneration(nodeId), agent.proc.output().slice(-3000)).toBeDefined(), 15_000);
  });

  afterAll(async () => {
    await agent?.stop();
    await cp?.stop();
  });

  it('streams the tail and then follows new lines, in order, until the consumer stops', async () => {
    const abort = new AbortController();
    const lines: LogLine[] = [];
    for await (const line of cp.logs.open({ nodeId, allocationId, tail: 5, follow: true }, abort.signal)) {
      lines.push(line);
      if (lines.length === 25) break;
    }
    // The tail is the last 5 lines written before the request: ticks (the 300 came long before).
    expect(lines.every((l) => l.allocationId === allocationId && l.stream === 'stdout' && /^tick \d+$/.test(l.text))).toBe(true);
    const numbers = lines.map((l) => Number(l.text.split(' ')[1]));
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
    for (const l of lines) expect(Date.parse(l.at)).toBeGreaterThan(Date.now() - 60_000);
    // Breaking out of the loop is going away too: the agent is told and stops.
    const task = await lastStreamTask();
    expect((await agentStreamEnd(task.id)).ended).toBe('cancelled');
    // The row is closed by a write the cancel starts without waiting for it (the agent can be
    // quicker on a loaded machine): it settles as cancelled.
    await eventually(async () => expect((await lastStreamTask()).state).toBe('cancelled'), 10_000);
  });

  it('without follow, sends everything asked for, both streams, then ends with the task', async () => {
    const lines: LogLine[] = [];
    for await (const line of cp.logs.open({ nodeId, allocationId, tail: 10_000, follow: false }, new AbortController().signal)) lines.push(line);
    const out = lines.filter((l) => l.stream === 'stdout' && l.text.startsWith('out ')).map((l) => l.text);
    expect(out).toEqual(Array.from({ length: 300 }, (_, i) => `out ${i}`));
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(['to stderr']);
    const task = await eventually(async () => {
      const t = await lastStreamTask();
      expect(t.state).toBe('succeeded');
      return t;
    }, 10_000);
    expect(task.result).toMatchObject({ ended: 'eof', lines: lines.length });
  });

  it('with a slow consumer, the agent stops at its window of un-credited chunks, and stops reading on abort', async () => {
    const abort = new AbortController();
    const it = cp.logs.open({ nodeId, allocationId, tail: 0, follow: true }, abort.signal)[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ stream: 'stdout', text: expect.stringMatching(/^tick /) as string });
    // The container writes 20 lines a second; the consumer takes nothing for 3 s.
    await new Promise((r) => setTimeout(r, 3_000));
    const task = await lastStreamTask();
    abort.abort();
    const end = await agentStreamEnd(task.id);
    expect(end.ended).toBe('cancelled');
    // Blocked by credit, not by a lack of output: the window filled and was never exceeded, and in
    // 3 s of 20 lines/s (about 30 chunks unbounded) no more than the window was sent.
    expect(end.maxInFlight).toBe(LOG_STREAM_WINDOW_CHUNKS);
    expect(end.chunks).toBeLessThanOrEqual(LOG_STREAM_WINDOW_CHUNKS + 1);
    expect((await it.next()).done).toBe(true);
    await eventually(async () => expect((await lastStreamTask()).state).toBe('cancelled'), 5_000);
    expect(cp.logs.openCount()).toBe(0);
  });

  it('refuses bad requests, and reports an allocation the node does not run', async () => {
    const signal = new AbortController().signal;
    expect(() => cp.logs.open({ nodeId, allocationId, tail: -1, follow: false }, signal)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }) as Error);
    expect(() => cp.logs.open({ nodeId: 'node_elsewhere', allocationId, tail: 1, follow: false }, signal)).toThrow(expect.objectContaining({ code: 'UNAVAILABLE' }) as Error);
    const iterate = async () => {
      for await (const _ of cp.logs.open({ nodeId, allocationId: 'alloc_unknown', tail: 1, follow: false }, signal)) void _;
    };
    await expect(iterate()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // A failed stream is not retried: nobody is reading it any more.
    await eventually(async () => expect((await lastStreamTask()).state).toBe('cancelled'), 5_000);
  });
});
