import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE_CODES, MAX_FRAME_BYTES, type Frame, type FrameToControlPlane } from '@karvon/protocol';
import type { Db } from '../db/connect';
import { isDomainError } from '../domain/errors';
import type { TokenSigner } from '../auth/jwt';
import type { AgentClaims } from '../nodes/node-credentials';
import { createAdmissions } from './admissions';
import { AgentSession, type SessionHost } from './agent-session';
import { createNodeLookups } from './node-lookups';
import type { LiveNodes } from './live-nodes';
import { authenticateUpgrade } from './upgrade-auth';

export const AGENT_CONNECT_PATH = '/api/v1/agent/connect';

/**
 * On stop every agent is sent close 1001 ("going away": it reconnects promptly to the next
 * process); sockets whose close handshake is not done within this are cut, so a whole fleet
 * answering at once does not hold the shutdown (the close frame was already written to them).
 */
export const STOP_HANDSHAKE_MS = 1_000;

export interface AgentHubOptions {
  db: Db;
  logger: Logger;
  agentTokens: TokenSigner<AgentClaims>;
  live: LiveNodes;
  heartbeatSeconds: number;
  /** Largest inbound frame; the protocol's bound for frames to the control plane by default. */
  maxFrameBytes?: number;
  flood?: { framesPerSecond: number; burst: number };
  now?: () => number;
  /** where sessions' lifecycle and replies go (the dispatcher); set after construction */
  events?: HubEvents;
}

export interface HubEvents {
  sessionReady(nodeId: string): void;
  sessionEnded(nodeId: string): void;
  onAgentFrame(nodeId: string, frame: FrameToControlPlane): void;
}

export interface AgentHub {
  /** handles an HTTP upgrade for the agent path; returns false for other paths */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** closes a revoked node's socket at once (if this process holds it) */
  revoke(nodeId: string): void;
  send(nodeId: string, frame: Frame): boolean;
  /** the generation of this node's current session in this process, if it is connected here */
  sessionGeneration(nodeId: string): number | undefined;
  connectedNodeIds(): string[];
  setEvents(events: HubEvents): void;
  stop(): Promise<void>;
}

export function createAgentHub(opts: AgentHubOptions): AgentHub {
  const { db, logger, live } = opts;
  const maxFrameBytes = opts.maxFrameBytes ?? MAX_FRAME_BYTES['to-control-plane'];
  // Date.now looked up at each call (not captured once), so a test that fakes Date moves the hub too.
  const now = opts.now ?? (() => Date.now());
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes, perMessageDeflate: false, clientTracking: false });
  const current = new Map<string, AgentSession>();
  const all = new Set<AgentSession>();
  // Every upgraded socket until its TCP connection closes (sessions leave `all` at their close frame).
  const sockets = new Set<WebSocket>();
  let events = opts.events;
  const admissions = createAdmissions(db);
  const nodeLookups = createNodeLookups(db);

  const host: SessionHost = {
    logger,
    live,
    heartbeatSeconds: opts.heartbeatSeconds,
    maxFrameBytes,
    flood: opts.flood ?? { framesPerSecond: 20, burst: 200 },
    now,
    admit: (nodeId, hello) => admissions.admit(nodeId, hello),
    install(session) {
      const previous = current.get(session.nodeId);
      if (previous && previous !== session) {
        // Two connections racing: the higher session generation (later admission) wins.
        if (previous.generation > session.generation) return false;
        previous.sendError('SUPERSEDED', 'another session for this node took over', false);
        previous.close(CLOSE_CODES.SUPERSEDED, 'superseded by a newer session');
      }
      current.set(session.nodeId, session);
      live.connected(session.nodeId);
      return true;
    },
    removed(session) {
      all.delete(session);
      if (current.get(session.nodeId) === session) {
        current.delete(session.nodeId);
        live.disconnected(session.nodeId);
        events?.sessionEnded(session.nodeId);
      }
    },
    ready(session) {
      if (current.get(session.nodeId) === session) events?.sessionReady(session.nodeId);
    },
    agentFrame(session, frame) {
      // Replies from a superseded session are late frames of a dead session: ignored.
      if (current.get(session.nodeId) === session) events?.onAgentFrame(session.nodeId, frame);
    },
    async refreshToken(nodeId) {
      const node = await db('nodes').where({ id: nodeId }).first<{ revoked_at: Date | null } | undefined>('revoked_at');
      if (!node || node.revoked_at) {
        revokeHere(nodeId);
        throw new Error('node revoked');
      }
      const { token, expiresAt } = await opts.agentTokens.sign(nodeId, {});
      return { token, expiresAt: expiresAt.toISOString(), expiresAtMs: expiresAt.getTime() };
    },
  };

  function revokeHere(nodeId: string): void {
    const s = current.get(nodeId);
    if (!s) return;
    s.sendError('NODE_REVOKED', 'this node was removed by an administrator', false);
    s.close(CLOSE_CODES.NODE_REVOKED, 'node revoked');
  }

  // One timer for every socket: ping, and terminate peers that did not answer the last ping.
  const pulse = setInterval(() => {
    for (const s of all) s.checkPulse();
  }, opts.heartbeatSeconds * 1000);
  pulse.unref();

  function reject(socket: Duplex, status: number, code: string, message: string): void {
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Service Unavailable'}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  return {
    handleUpgrade(req, socket, head) {
      const path = (req.url ?? '').split('?')[0];
      if (path !== AGENT_CONNECT_PATH) return false;
      socket.on('error', () => socket.destroy());
      authenticateUpgrade(req, { nodes: nodeLookups, agentTokens: opts.agentTokens }).then(
        (agent) => {
          wss.handleUpgrade(req, socket, head, (ws) => {
            sockets.add(ws);
            ws.once('close', () => sockets.delete(ws));
            const session = new AgentSession(agent.nodeId, ws, agent.tokenExpiresAt, host);
            all.add(session);
          });
        },
        (err: unknown) => {
          if (isDomainError(err) && err.code === 'UNAUTHENTICATED') {
            const revoked = err.details?.reason === 'NODE_REVOKED';
            reject(socket, 401, revoked ? 'NODE_REVOKED' : 'UNAUTHENTICATED', err.message);
          } else {
            logger.warn({ err }, 'agent upgrade failed');
            reject(socket, 503, 'UNAVAILABLE', 'try again later');
          }
        },
      );
      return true;
    },
    revoke: revokeHere,
    send(nodeId, frame) {
      const s = current.get(nodeId);
      if (!s?.isReady) return false;
      s.send(frame);
      return true;
    },
    sessionGeneration(nodeId) {
      const s = current.get(nodeId);
      return s?.isReady ? s.generation : undefined;
    },
    connectedNodeIds: () => [...current.keys()],
    setEvents(e) {
      events = e;
    },
    async stop() {
      clearInterval(pulse);
      for (const s of [...all]) s.close(1001, 'control plane shutting down');
      await allClosed(sockets, STOP_HANDSHAKE_MS);
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Resolves once every socket in `sockets` has closed (they leave the set), or after `ms`. */
function allClosed(sockets: Set<WebSocket>, ms: number): Promise<void> {
  if (sockets.size === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(finish, ms);
    let left = sockets.size;
    function finish(): void {
      clearTimeout(timer);
      resolve();
    }
    for (const ws of sockets) {
      ws.once('close', () => {
        left -= 1;
        if (left === 0) finish();
      });
    }
  });
}
