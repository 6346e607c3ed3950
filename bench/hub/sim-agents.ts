// A simulator process holding many agent WebSockets (run with `node --import tsx`, driven over IPC
// by bench/hub.ts). Each simulated agent behaves like apps/agent's connection loop: credential →
// agent JWT over HTTP, WebSocket with the JWT, hello, welcome, heartbeats every interval the
// server gives, and reconnection on the real agent's schedule (nextReconnect) after any loss.
import http from 'node:http';
import WebSocket from 'ws';
import { INITIAL_RECONNECT, nextReconnect, type SessionOutcome } from '../../apps/agent/src/connection/backoff';
import { heartbeatTemplate, helloText } from './frames';
import type { ParentToSim, SilenceResult, SimInit, SimStats, SimToParent } from './sim-protocol';

interface Agent {
  nodeId: string;
  credential: string;
  hello: string;
  ws: WebSocket | undefined;
  ready: boolean;
  silenced: boolean;
  timer: NodeJS.Timeout | undefined;
  welcomedAt: number;
  lastHeartbeatAt: number;
}

let init: SimInit | undefined;
let agents: Agent[] = [];
let httpAgent: http.Agent | undefined;
let template = { prefix: '', suffix: '', bytes: 0 };
let stopped = false;

const stats: SimStats = {
  agents: 0,
  ready: 0,
  welcomes: 0,
  heartbeats: 0,
  heartbeatBytes: 0,
  tokenFailures: 0,
  upgradeFailures: 0,
  closes: 0,
  errorFrames: {},
  tokenFailureKinds: {},
  phaseMs: { token: 0, upgrade: 0, welcome: 0, sessions: 0 },
  lastWelcomeAt: 0,
  rssKb: 0,
};

// --- heartbeats -----------------------------------------------------------------------------------

let rate = 0;
let rateStart = 0;
let rateSent = 0;
let cursor = 0;
let rateTimer: NodeJS.Timeout | undefined;

function sendHeartbeat(a: Agent, sentAt: string): void {
  const ws = a.ws;
  if (!ws || !a.ready || a.silenced || ws.readyState !== WebSocket.OPEN) return;
  ws.send(template.prefix + sentAt + template.suffix);
  a.lastHeartbeatAt = Date.now();
  stats.heartbeats += 1;
}

/** Rate mode: one sim-wide ticker spreads `rate` heartbeats a second round-robin over ready agents. */
function rateTick(): void {
  const due = Math.floor(((performance.now() - rateStart) / 1000) * rate) - rateSent;
  if (due <= 0 || agents.length === 0) return;
  const sentAt = new Date().toISOString();
  let sent = 0;
  for (let scanned = 0; sent < due && scanned < agents.length; scanned++) {
    const a = agents[cursor]!;
    cursor = (cursor + 1) % agents.length;
    if (!a.ready || a.silenced) continue;
    sendHeartbeat(a, sentAt);
    sent += 1;
  }
  rateSent += due; // never catch up a backlog later: a missed slot is a heartbeat not sent
}

function setRate(perSecond: number): void {
  if (rateTimer) clearInterval(rateTimer);
  rateTimer = undefined;
  rate = perSecond;
  if (perSecond > 0) {
    rateStart = performance.now();
    rateSent = 0;
    rateTimer = setInterval(rateTick, 10);
  }
}

// --- one agent's connection loop -----------------------------------------------------------------

let connectSlots = 0;
const connectQueue: Array<() => void> = [];

async function firstConnectSlot(): Promise<() => void> {
  if (connectSlots >= init!.connectConcurrency) await new Promise<void>((resolve) => connectQueue.push(resolve));
  connectSlots += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    connectSlots -= 1;
    connectQueue.shift()?.();
  };
}

function fetchAgentToken(credential: string): Promise<string> {
  const url = new URL('/api/v1/agent/token', init!.baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: httpAgent, timeout: 15_000, headers: { authorization: `Bearer ${credential}`, 'content-length': '0' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`agent token: ${res.statusCode} ${body.slice(0, 200)}`));
          else resolve((JSON.parse(body) as { token: string }).token);
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('agent token: timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** One session; resolves with how it ended (welcomed, and closed with 1001), which drives the agent's own reconnect schedule. */
async function session(a: Agent, onSettled: () => void): Promise<SessionOutcome> {
  let token: string;
  const tStart = Date.now();
  try {
    token = await fetchAgentToken(a.credential);
  } catch (err) {
    stats.tokenFailures += 1;
    const e = err as NodeJS.ErrnoException;
    const kind = e.code ?? (/^agent token: (\d+|timeout)/.exec(e.message)?.[1] ?? 'other');
    stats.tokenFailureKinds[kind] = (stats.tokenFailureKinds[kind] ?? 0) + 1;
    onSettled();
    return { welcomed: false };
  }
  const ws = new WebSocket(`${init!.baseUrl.replace(/^http/, 'ws')}/api/v1/agent/connect`, {
    headers: { authorization: `Bearer ${token}` },
    localAddress: init!.localAddress,
    family: 4,
    perMessageDeflate: false,
    handshakeTimeout: 15_000,
  });
  a.ws = ws;
  return new Promise<SessionOutcome>((resolve) => {
    let welcomed = false;
    const tToken = Date.now();
    let tOpen = 0;
    ws.on('open', () => {
      tOpen = Date.now();
      ws.send(a.hello);
    });
    ws.on('unexpected-response', (_req, res) => {
      stats.upgradeFailures += 1;
      res.resume();
      ws.terminate();
    });
    ws.on('message', (data) => {
      const frame = JSON.parse((data as Buffer).toString('utf8')) as { type: string; payload: { heartbeatIntervalMs?: number; code?: string } };
      if (frame.type === 'welcome') {
        if (a.silenced) return;
        welcomed = true;
        a.ready = true;
        a.welcomedAt = Date.now();
        stats.welcomes += 1;
        stats.ready += 1;
        stats.lastWelcomeAt = a.welcomedAt;
        stats.phaseMs.token += tToken - tStart;
        stats.phaseMs.upgrade += tOpen - tToken;
        stats.phaseMs.welcome += a.welcomedAt - tOpen;
        stats.phaseMs.sessions += 1;
        onSettled();
        // Like the agent: one heartbeat at once, then one per interval (unless rate mode drives them).
        const beat = () => {
          if (rate === 0) sendHeartbeat(a, new Date().toISOString());
        };
        beat();
        a.timer = setInterval(beat, frame.payload.heartbeatIntervalMs ?? 30_000);
      } else if (frame.type === 'error') {
        const code = frame.payload.code ?? 'unknown';
        stats.errorFrames[code] = (stats.errorFrames[code] ?? 0) + 1;
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      if (a.timer) clearInterval(a.timer);
      a.timer = undefined;
      if (a.ready) stats.ready -= 1;
      a.ready = false;
      a.ws = undefined;
      stats.closes += 1;
      onSettled();
      resolve(welcomed ? { welcomed, restartAnnounced: code === 1001 } : { welcomed });
    });
  });
}

async function runAgent(a: Agent): Promise<void> {
  let schedule = INITIAL_RECONNECT;
  let first = true;
  while (!stopped && !a.silenced) {
    const release = first ? await firstConnectSlot() : () => undefined;
    first = false;
    const outcome = await session(a, release);
    release();
    if (stopped || a.silenced) return;
    const next = nextReconnect(schedule, outcome, Math.random);
    schedule = next.state;
    await new Promise((resolve) => setTimeout(resolve, next.delayMs));
  }
}

// --- commands -------------------------------------------------------------------------------------

function silence(): SilenceResult {
  const silencedAt = Date.now();
  const nodes: SilenceResult['nodes'] = [];
  for (const a of agents) {
    a.silenced = true;
    if (a.timer) clearInterval(a.timer);
    a.timer = undefined;
    // Stop reading: the socket stays open, no pong and no close frame ever leave this side.
    a.ws?.pause();
    nodes.push({ nodeId: a.nodeId, lastHeartbeatAt: a.lastHeartbeatAt });
  }
  return { silencedAt, nodes };
}

function reply(msg: SimToParent): void {
  process.send?.(msg);
}

process.on('message', (raw) => {
  const msg = raw as ParentToSim;
  try {
    switch (msg.cmd) {
      case 'init': {
        init = msg;
        httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256, localAddress: msg.localAddress, family: 4 });
        template = heartbeatTemplate(msg.heartbeatMinBytes);
        agents = msg.agents.map((s) => ({
          nodeId: s.nodeId,
          credential: s.credential,
          hello: helloText(s.hostname),
          ws: undefined,
          ready: false,
          silenced: false,
          timer: undefined,
          welcomedAt: 0,
          lastHeartbeatAt: 0,
        }));
        stats.agents = agents.length;
        reply({ id: msg.id, ok: true });
        return;
      }
      case 'connect':
        for (const a of agents) void runAgent(a);
        reply({ id: msg.id, ok: true });
        return;
      case 'rate':
        setRate(msg.perSecond);
        reply({ id: msg.id, ok: true });
        return;
      case 'silence':
        reply({ id: msg.id, ok: true, silence: silence() });
        return;
      case 'stats':
        stats.rssKb = Math.round(process.memoryUsage.rss() / 1024);
        stats.heartbeatBytes = template.bytes;
        reply({ id: msg.id, ok: true, stats });
        return;
      case 'welcome-times':
        reply({ id: msg.id, ok: true, welcomeTimes: Object.fromEntries(agents.filter((a) => a.ready).map((a) => [a.nodeId, a.welcomedAt])) });
        return;
      case 'stop':
        stopped = true;
        setRate(0);
        for (const a of agents) a.ws?.terminate();
        reply({ id: msg.id, ok: true });
        setTimeout(() => process.exit(0), 50);
        return;
    }
  } catch (e) {
    reply({ id: msg.id, ok: false, error: (e as Error).stack ?? String(e) });
  }
});

// The benchmark gone (crashed or killed): nothing here may outlive it.
process.on('disconnect', () => process.exit(0));
