import { describe, expect, it } from 'vitest';
import type { Action } from './actions';
import { plan, type PlanInput } from './plan';
import { allocation, containerFor, network, observation, planInput, record, SETTINGS, T0 } from './testing';

const a1 = allocation('alloc_1');
const c1 = containerFor(a1);
const ports = new Map([[a1.id, 20001]]);
const healthyRec = new Map([[a1.id, record({ healthyAt: T0 - 50_000 })]]);
// Release 2 of the same app replaces a1 (the control plane sent only the new allocation).
const b1 = allocation('alloc_2', { releaseId: 'rel_2', releaseNumber: 2, image: 'registry.local/app_1:2' });
const cb1 = containerFor(b1, { startedAt: T0 - 5_000, hostPort: 20002 });
const bothPorts = new Map([[a1.id, 20001], [b1.id, 20002]]);
const exited = (over = {}) => containerFor(a1, { state: 'exited', exitCode: 3, finishedAt: T0 - 2_000, ...over });

interface Case {
  name: string;
  input: Partial<PlanInput>;
  expected: Action[];
}

const cases: Case[] = [
  {
    name: 'a new allocation gets its tenant network, then its container',
    input: { desired: [a1], observation: observation([], [], []) },
    expected: [{ kind: 'create-network', tenantId: 'usr_1' }, { kind: 'create-container', allocation: a1 }],
  },
  {
    name: 'a new allocation on an existing network only gets its container',
    input: { desired: [a1] },
    expected: [{ kind: 'create-container', allocation: a1 }],
  },
  {
    name: 'a healthy, adopted container is left alone',
    input: { desired: [a1], observation: observation([c1], [c1.id]), records: healthyRec, ports },
    expected: [],
  },
  {
    name: 'the port of an adopted container is recorded when the allocator lost it',
    input: { desired: [a1], observation: observation([c1], [c1.id]), records: healthyRec },
    expected: [{ kind: 'adopt-port', allocationId: a1.id, port: 20001 }],
  },
  {
    name: 'the first healthy probe is recorded',
    input: { desired: [a1], observation: observation([c1], [c1.id]), ports },
    expected: [{ kind: 'mark-healthy', allocationId: a1.id }],
  },
  {
    name: 'the first healthy probe ends the startup CPU boost in the same pass',
    input: { desired: [a1], observation: observation([{ ...c1, nanoCpus: 1_000_000_000 }], [c1.id]), ports },
    expected: [
      { kind: 'mark-healthy', allocationId: a1.id },
      { kind: 'limit-cpu', allocationId: a1.id, containerId: c1.id, nanoCpus: 250_000_000 },
    ],
  },
  {
    name: 'a starting container keeps its boost until it answers',
    input: { desired: [a1], observation: observation([{ ...c1, startedAt: T0 - 10_000, nanoCpus: 1_000_000_000 }]), ports },
    expected: [],
  },
  {
    name: 'a container once healthy gets its plan CPU back even when not answering now (agent restarted mid-update)',
    input: { desired: [a1], observation: observation([{ ...c1, nanoCpus: 1_000_000_000 }]), records: healthyRec, ports },
    expected: [{ kind: 'limit-cpu', allocationId: a1.id, containerId: c1.id, nanoCpus: 250_000_000 }],
  },
  {
    name: 'a healthy container at its plan CPU is left alone',
    input: { desired: [a1], observation: observation([{ ...c1, nanoCpus: 250_000_000 }], [c1.id]), records: healthyRec, ports },
    expected: [],
  },
  {
    name: 'a container not yet healthy within its deadline is waited for',
    input: { desired: [a1], observation: observation([{ ...c1, startedAt: T0 - 10_000 }]), ports },
    expected: [],
  },
  {
    name: 'a container never healthy by the deadline fails',
    input: { desired: [a1], observation: observation([c1]), ports },
    expected: [{ kind: 'fail', allocationId: a1.id, containerId: c1.id, failure: 'unhealthy', detail: 'not healthy 30 s after start (connection refused)' }],
  },
  {
    name: 'a container that was healthy and stops answering is reported, not failed',
    input: { desired: [a1], observation: observation([c1]), records: healthyRec, ports },
    expected: [],
  },
  {
    name: 'an exited container is restarted once its backoff has passed',
    input: { desired: [a1], observation: observation([exited()]), ports },
    expected: [{ kind: 'start-container', allocationId: a1.id, containerId: c1.id, restart: true }],
  },
  {
    name: 'an exited container waits out its backoff',
    input: { desired: [a1], observation: observation([exited({ finishedAt: T0 - 500 })]), ports },
    expected: [],
  },
  {
    name: 'an exit after 3 restarts within 5 minutes is a crash loop',
    input: { desired: [a1], observation: observation([exited()]), records: new Map([[a1.id, record({ restarts: 3, recentRestarts: [T0 - 60_000, T0 - 30_000, T0 - 10_000] })]]), ports },
    expected: [{ kind: 'fail', allocationId: a1.id, containerId: c1.id, failure: 'crash-loop', detail: 'exit code 3, oom false, exited after 3 restarts in 5 min' }],
  },
  {
    name: 'restarts older than the window do not count',
    input: { desired: [a1], observation: observation([exited()]), records: new Map([[a1.id, record({ restarts: 3, recentRestarts: [T0 - 400_000, T0 - 350_000, T0 - 301_000] })]]), ports },
    expected: [{ kind: 'start-container', allocationId: a1.id, containerId: c1.id, restart: true }],
  },
  {
    name: 'a failed allocation is not restarted',
    input: { desired: [a1], observation: observation([exited()]), records: new Map([[a1.id, record({ failure: { kind: 'crash-loop', at: T0, message: 'x' } })]]), ports },
    expected: [],
  },
  {
    name: 'a stop request drains first',
    input: { desired: [{ ...a1, desiredStatus: 'stopped' }], observation: observation([c1], [c1.id]), records: healthyRec, ports },
    expected: [{ kind: 'drain', allocationId: a1.id, containerId: c1.id }],
  },
  {
    name: 'a stop request stops the container once drained',
    input: { desired: [{ ...a1, desiredStatus: 'stopped' }], observation: observation([c1], [c1.id]), records: healthyRec, ports, draining: new Map([[c1.id, T0 - 2_000]]) },
    expected: [{ kind: 'stop-container', allocationId: a1.id, containerId: c1.id }],
  },
  {
    name: 'a stop request clears a failure so a later start begins afresh',
    input: { desired: [{ ...a1, desiredStatus: 'stopped' }], observation: observation([exited()]), records: new Map([[a1.id, record({ failure: { kind: 'crash-loop', at: T0, message: 'x' } })]]), ports },
    expected: [{ kind: 'reset', allocationId: a1.id }],
  },
  {
    name: 'a start request starts a container the agent stopped, without counting a restart',
    input: { desired: [a1], observation: observation([exited({ exitCode: 143 })]), records: new Map([[a1.id, record({ stoppedByAgent: true, healthyAt: T0 - 90_000 })]]), ports },
    expected: [{ kind: 'start-container', allocationId: a1.id, containerId: c1.id, restart: false }],
  },
  {
    name: 'a container created but never started is started',
    input: { desired: [a1], observation: observation([containerFor(a1, { state: 'created' })]), ports },
    expected: [{ kind: 'start-container', allocationId: a1.id, containerId: c1.id, restart: false }],
  },
  {
    name: 'a removed allocation is drained, not cut',
    input: { desired: [], observation: observation([c1], [c1.id]), records: healthyRec, ports },
    expected: [{ kind: 'drain', allocationId: a1.id, containerId: c1.id }],
  },
  {
    name: 'a removed allocation is removed once drained',
    input: { desired: [], observation: observation([c1], [c1.id]), records: healthyRec, ports, draining: new Map([[c1.id, T0 - 2_000]]) },
    expected: [{ kind: 'remove-container', allocationId: a1.id, containerId: c1.id, reason: 'not-desired' }],
  },
  {
    name: 'a removed allocation with no container left loses its port and record, and its network goes',
    input: { desired: [], observation: observation([]), records: healthyRec, ports },
    expected: [
      { kind: 'forget', allocationId: a1.id },
      { kind: 'remove-network', networkId: 'net_usr_1', name: 'karvon-usr_1' },
    ],
  },
  {
    name: 'rollout: the old release keeps serving while the new one is created',
    input: { desired: [b1], observation: observation([c1], [c1.id]), records: healthyRec, ports },
    expected: [{ kind: 'create-container', allocation: b1 }],
  },
  {
    name: 'rollout: the old release keeps serving while the new one starts',
    input: { desired: [b1], observation: observation([c1, cb1], [c1.id]), records: healthyRec, ports: bothPorts },
    expected: [],
  },
  {
    name: 'rollout: the old release is drained once the new one is healthy',
    input: { desired: [b1], observation: observation([c1, cb1], [c1.id, cb1.id]), records: healthyRec, ports: bothPorts },
    expected: [
      { kind: 'mark-healthy', allocationId: b1.id },
      { kind: 'drain', allocationId: a1.id, containerId: c1.id },
    ],
  },
  {
    name: 'rollout: a new release that failed leaves the old one serving',
    input: {
      desired: [b1],
      observation: observation([c1, { ...cb1, state: 'exited' }], [c1.id]),
      records: new Map([...healthyRec, [b1.id, record({ failure: { kind: 'unhealthy', at: T0, message: 'x' }, stoppedByAgent: true })]]),
      ports: bothPorts,
    },
    expected: [],
  },
  {
    name: "rollout: another app's pending release does not hold this app's removal",
    input: { desired: [{ ...b1, appId: 'app_2' }], observation: observation([c1], [c1.id]), records: healthyRec, ports },
    expected: [
      { kind: 'create-container', allocation: { ...b1, appId: 'app_2' } },
      { kind: 'drain', allocationId: a1.id, containerId: c1.id },
    ],
  },
  {
    name: 'a container made for other settings is replaced',
    input: { desired: [a1], observation: observation([{ ...c1, specHash: 'other' }], [c1.id]), records: healthyRec, ports },
    expected: [{ kind: 'remove-container', allocationId: a1.id, containerId: c1.id, reason: 'spec-changed' }],
  },
  {
    name: 'a second container for one allocation is removed',
    input: { desired: [a1], observation: observation([c1, { ...c1, id: 'c_dup', state: 'exited' }], [c1.id]), records: healthyRec, ports },
    expected: [{ kind: 'remove-container', allocationId: a1.id, containerId: 'c_dup', reason: 'duplicate' }],
  },
  {
    name: 'a dead container is removed (and created again next pass)',
    input: { desired: [a1], observation: observation([{ ...c1, state: 'dead' }]), records: healthyRec, ports },
    expected: [{ kind: 'remove-container', allocationId: a1.id, containerId: c1.id, reason: 'dead' }],
  },
  {
    name: 'a create that just failed is not retried before the retry pause',
    input: { desired: [a1], lastErrorAt: new Map([[a1.id, T0 - 1_000]]) },
    expected: [],
  },
  {
    name: "a network whose tenant has nothing here is removed; another tenant's stays",
    input: { desired: [a1], observation: observation([c1], [c1.id], [network('usr_1'), network('usr_9')]), records: healthyRec, ports },
    expected: [{ kind: 'remove-network', networkId: 'net_usr_9', name: 'karvon-usr_9' }],
  },
];

describe('plan', () => {
  it.each(cases)('$name', ({ input, expected }) => {
    expect(plan(planInput(input))).toEqual(expected);
  });

  it('does nothing twice: the actions of a converged state are none', () => {
    expect(plan(planInput({ desired: [a1, b1], observation: observation([c1, cb1], [c1.id, cb1.id]), records: new Map([...healthyRec, [b1.id, record({ healthyAt: T0 })]]), ports: bothPorts }))).toEqual([]);
  });

  it('uses the settings it is given', () => {
    const input = planInput({ desired: [a1], observation: observation([{ ...c1, startedAt: T0 - 10_000 }]), ports, settings: { ...SETTINGS, healthDeadlineMs: 5_000 } });
    expect(plan(input).map((a) => a.kind)).toEqual(['fail']);
  });
});
