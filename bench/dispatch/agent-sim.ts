// An agent simulator process for the dispatch benchmark (run with `node --import tsx`, driven over
// IPC by bench/dispatch/dispatch-bench.ts). Each simulated agent does what apps/agent's connection
// does up to the point that matters here: credential → agent JWT over HTTP, WebSocket with the JWT,
// hello, welcome, a heartbeat per interval; and, like the agent, it acknowledges each desired state
// and acks + answers each noop task. Frame arrivals are stamped with process.hrtime.bigint() as the
// first thing the message handler does, so the parent can compare them with its own clock.
import http from 'node:http';
import WebSocket from 'ws';
import { heartbeatTemplate, helloText } from '../hub/frames';
import type { Arrivals, DispatchSimInit, DispatchSimStats, DispatchSimToParent, ParentToDispatchSim } from './sim-protocol';

interface Agent {
  nodeId: string;
  credential: string;
  hello: string;
  ws: WebSocket | undefined;
  ready: boolean;
  timer: NodeJS.Timeout | undefined;
}

let init: DispatchSimInit | undefined;
let agents: Agent[] = [];
let httpAgent: http.Agent | undefined;
let stopped = false;
let recording = false;
let arrivals: Arrivals = { desired: [], tasks: [] };
const heartbeat = heartbeatTemplate(0);

const stats: DispatchSimStats = { agents: 0, ready: 0, welcomes: 0, closes: 0, failures: 0, desiredStates: 0, tasks: 0, errorFrames: {}, rssKb: 0 };

function fetchAgentToken(credential: string): Promise<string> {
  const url = new URL('/api/v1/agent/token', init!.baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: httpAgent, timeout: 30_000, headers: { authorization: `Bearer ${credential}`, 'content-length': '0' } },
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

interface InboundFrame {
  type: string;
  payload: {
    heartbeatIntervalMs?: number;
    generation?: number;
    id?: string;
    code?: string;
    payload?: { echo?: string };
  };
}

function onFrame(a: Agent, ws: WebSocket, data: Buffer, at: bigint): boolean {
  const frame = JSON.parse(data.toString('utf8')) as InboundFrame;
  switch (frame.type) {
    case 'welcome': {
      a.ready = true;
      stats.welcomes += 1;
      stats.ready += 1;
      const beat = () => {
        if (ws.readyState === WebSocket.OPEN) ws.send(heartbeat.prefix + new Date().toISOString() + heartbeat.suffix);
      };
      beat();
      a.timer = setInterval(beat, frame.payload.heartbeatIntervalMs ?? 30_000);
      return true;
    }
    case 'desired-state': {
      const generation = frame.payload.generation ?? -1;
      stats.desiredStates += 1;
      if (recording) arrivals.desired.push([a.nodeId, generation, at.toString()]);
      if (init!.ack) ws.send(JSON.stringify({ type: 'desired-state-ack', payload: { generation } }));
      return false;
    }
    case 'task': {
      const taskId = frame.payload.id ?? '';
      const echo = frame.payload.payload?.echo ?? '';
      stats.tasks += 1;
      if (recording) arrivals.tasks.push([echo, at.toString()]);
      if (init!.ack) {
        ws.send(JSON.stringify({ type: 'task-ack', payload: { taskId, duplicate: false } }));
        ws.send(JSON.stringify({ type: 'task-result', payload: { taskId, status: 'succeeded', result: { echo } } }));
      }
      return false;
    }
    case 'error': {
      const code = frame.payload.code ?? 'unknown';
      stats.errorFrames[code] = (stats.errorFrames[code] ?? 0) + 1;
      return false;
    }
    default:
      return false;
  }
}

/** Opens one session; resolves once it is welcomed or has failed (the socket then lives on). */
async function open(a: Agent): Promise<boolean> {
  let token: string;
  try {
    token = await fetchAgentToken(a.credential);
  } catch {
    stats.failures += 1;
    return false;
  }
  const ws = new WebSocket(`${init!.baseUrl.replace(/^http/, 'ws')}/api/v1/agent/connect`, {
    headers: { authorization: `Bearer ${token}` },
    localAddress: init!.localAddress,
    family: 4,
    perMessageDeflate: false,
    handshakeTimeout: 30_000,
  });
  a.ws = ws;
  return new Promise<boolean>((resolve) => {
    let settled = false;
    const settle = (ok: boolean) => {
      if (!settled) resolve(ok);
      settled = true;
    };
    ws.on('open', () => ws.send(a.hello));
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
    });
    ws.on('message', (data) => {
      const at = process.hrtime.bigint();
      if (onFrame(a, ws, data as Buffer, at)) settle(true);
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (a.timer) clearInterval(a.timer);
      a.timer = undefined;
      if (a.ready) stats.ready -= 1;
      else stats.failures += 1;
      a.ready = false;
      a.ws = undefined;
      stats.closes += 1;
      settle(false);
    });
  });
}

/** Opens every session, `connectConcurrency` at a time; one retry for a session that failed. */
async function connectAll(): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (!stopped && next < agents.length) {
      const a = agents[next++]!;
      if (!(await open(a)) && !stopped) await open(a);
    }
  };
  await Promise.all(Array.from({ length: Math.min(init!.connectConcurrency, agents.length) }, worker));
}

function reply(msg: DispatchSimToParent): void {
  process.send?.(msg);
}

process.on('message', (raw) => {
  const msg = raw as ParentToDispatchSim;
  try {
    switch (msg.cmd) {
      case 'init':
        init = msg;
        httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64, localAddress: msg.localAddress, family: 4 });
        agents = msg.agents.map((s) => ({ nodeId: s.nodeId, credential: s.credential, hello: helloText(s.hostname), ws: undefined, ready: false, timer: undefined }));
        stats.agents = agents.length;
        reply({ id: msg.id, ok: true });
        return;
      case 'connect':
        void connectAll();
        reply({ id: msg.id, ok: true });
        return;
      case 'stats':
        stats.rssKb = Math.round(process.memoryUsage.rss() / 1024);
        reply({ id: msg.id, ok: true, stats });
        return;
      case 'record':
        recording = msg.on;
        reply({ id: msg.id, ok: true });
        return;
      case 'collect':
        reply({ id: msg.id, ok: true, arrivals });
        arrivals = { desired: [], tasks: [] };
        return;
      case 'stop':
        stopped = true;
        for (const a of agents) {
          if (a.timer) clearInterval(a.timer);
          a.ws?.terminate();
        }
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
