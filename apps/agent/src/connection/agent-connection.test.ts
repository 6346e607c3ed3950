// The connection loop's reconnect timing against a stand-in control plane on loopback: a session
// closed with 1001 "going away" (the control plane announced its restart) is followed by the short
// restart window, any other loss by the usual backoff.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { PROTOCOL_VERSION, encodeFrame } from '@karvon/protocol';
import { createAgentConnection } from './agent-connection';
import { RESTART_TRIES } from './backoff';
import { sampleFacts } from '../../../../test/agents';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => server?.close(r));
  server = undefined;
});

/** Welcomes each session, then closes it with the next of `codes` (the last session stays open). */
async function controlPlane(codes: number[]): Promise<string> {
  const wss = new WebSocketServer({ noServer: true });
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: 'agent-jwt', expiresAt: new Date(Date.now() + 600_000).toISOString() }));
  });
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once('message', () => {
        ws.send(encodeFrame({ type: 'welcome', payload: { nodeId: 'nod_1', sessionGeneration: 1, heartbeatIntervalMs: 30_000, serverProtocolVersion: PROTOCOL_VERSION } }));
        // Once the codes are used up the session stays: no further reconnects to count.
        const code = codes.shift();
        if (code !== undefined) setTimeout(() => ws.close(code, 'bye'), 20);
      });
    }),
  );
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('agent connection reconnect timing', () => {
  it('comes back within the restart window after 1001, with the usual backoff after any other close', async () => {
    const url = await controlPlane([1011, 1001]);
    const reconnects: Array<{ delayMs: number; attempt: number; restartTriesLeft: number }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => {
      const rec = JSON.parse(line) as { msg: string; delayMs: number; attempt: number; restartTriesLeft: number };
      if (rec.msg === 'reconnecting') reconnects.push({ delayMs: rec.delayMs, attempt: rec.attempt, restartTriesLeft: rec.restartTriesLeft });
    } });
    const conn = createAgentConnection({
      controlPlane: url,
      nodeId: 'nod_1',
      credential: 'kvn_x',
      agentVersion: 'test',
      logger,
      facts: () => Promise.resolve(sampleFacts()),
      usage: () => Promise.resolve({ cpuMillicores: 0, memoryMb: 0, diskMb: 0 } as never),
      appliedGeneration: () => 0,
      onDesiredState: () => Promise.resolve(),
      onTask: () => undefined,
      random: () => 0,
    });
    const run = conn.run();
    await expect.poll(() => reconnects.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    conn.stop();
    await run;
    expect(reconnects).toHaveLength(2);
    expect(reconnects[0]).toEqual({ delayMs: 500, attempt: 0, restartTriesLeft: 0 });
    expect(reconnects[1]).toEqual({ delayMs: 0, attempt: 0, restartTriesLeft: RESTART_TRIES });
  });

  it('stopped while its token is being fetched, ends without opening a socket', async () => {
    let tokenAsked!: () => void;
    const asked = new Promise<void>((r) => (tokenAsked = r));
    let upgrades = 0;
    let answer: (() => void) | undefined;
    server = createServer((req, res) => {
      tokenAsked();
      answer = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token: 'agent-jwt', expiresAt: new Date(Date.now() + 600_000).toISOString() }));
      };
    });
    server.on('upgrade', (req, socket) => {
      upgrades += 1;
      socket.destroy();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const conn = createAgentConnection({
      controlPlane: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      nodeId: 'nod_1',
      credential: 'kvn_x',
      agentVersion: 'test',
      logger: pino({ level: 'silent' }),
      facts: () => Promise.resolve(sampleFacts()),
      usage: () => Promise.resolve({ cpuMillicores: 0, memoryMb: 0, diskMb: 0 } as never),
      appliedGeneration: () => 0,
      onDesiredState: () => Promise.resolve(),
      onTask: () => undefined,
    });
    const run = conn.run();
    await asked;
    conn.stop();
    answer!();
    expect(await run).toBe('stopped');
    expect(upgrades).toBe(0);
  });
});
