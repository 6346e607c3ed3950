import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import {
  CLOSE_CODES,
  PROTOCOL_VERSION,
  checkCompatibility,
  encodeFrame,
  parseFrame,
  type AllocationStatus,
  type Frame,
  type FrameToControlPlane,
  type ParseResult,
  type ProtocolErrorCode,
} from '@karvon/protocol';
import { parseHeartbeatFast } from './heartbeat-fast-path';
import type { LiveNodes } from './live-nodes';

export interface SessionHost {
  logger: Logger;
  live: LiveNodes;
  heartbeatSeconds: number;
  maxFrameBytes: number;
  flood: { framesPerSecond: number; burst: number };
  now(): number;
  /** persists the admission (new session generation, facts) and returns the generation */
  admit(nodeId: string, hello: Extract<Frame, { type: 'hello' }>['payload']): Promise<number>;
  /** makes this session the node's current one, superseding any older one; false if a newer one won */
  install(session: AgentSession): boolean;
  removed(session: AgentSession): void;
  refreshToken(nodeId: string): Promise<{ token: string; expiresAt: string; expiresAtMs: number }>;
  /** the session was welcomed: its desired state and tasks may flow */
  ready(session: AgentSession): void;
  /** replies for dispatch: desired-state acks, task acks, progress, results, log chunks */
  agentFrame(session: AgentSession, frame: FrameToControlPlane): void;
}

/** Bad frames tolerated (each answered with a coded error) before the socket is closed. */
const MAX_BAD_FRAMES = 20;

type State = 'awaiting-hello' | 'admitting' | 'ready' | 'closed';

/**
 * One agent connection: hello first, then heartbeats and replies. Every inbound frame is parsed by
 * the protocol package; anything wrong is answered with a coded error frame and never throws into
 * the socket handler. A superseded or closed session ignores whatever still arrives.
 */
export class AgentSession {
  private state: State = 'awaiting-hello';
  private badFrames = 0;
  private tokens: number;
  private lastRefill: number;
  alive = true;
  private heardSinceCheck = false;
  /** the allocations of the last heartbeat the fast path took: the next identical report reuses them */
  private lastAllocations: readonly AllocationStatus[] | undefined;
  generation = 0;

  constructor(
    readonly nodeId: string,
    private readonly ws: WebSocket,
    private tokenExpiresAt: number,
    private readonly host: SessionHost,
  ) {
    this.tokens = host.flood.burst;
    this.lastRefill = host.now();
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer | Buffer[], isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('close', () => this.onClose());
    ws.on('error', (err) => host.logger.debug({ err, nodeId }, 'agent socket error'));
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  send(frame: Frame): void {
    if (this.state === 'closed') return;
    this.ws.send(encodeFrame(frame));
  }

  sendError(code: ProtocolErrorCode, message: string, recoverable: boolean): void {
    this.send({ type: 'error', payload: { code, message, recoverable } });
  }

  /** closes with a coded reason; late frames from this socket are ignored from now on */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    // Reasons are limited to 123 bytes by the WebSocket protocol.
    this.ws.close(code, reason.slice(0, 120));
    this.host.removed(this);
  }

  terminate(): void {
    if (this.state !== 'closed') this.host.removed(this);
    this.state = 'closed';
    this.ws.terminate();
  }

  /** called by the hub's timer: ping/pong liveness and agent-token expiry */
  checkPulse(): void {
    if (this.state === 'closed') return;
    // Only a ping left unanswered (no pong, no frame) for a whole interval ends the session.
    if (!this.alive) {
      this.host.logger.info({ nodeId: this.nodeId }, 'agent silent past a ping interval; terminating');
      this.terminate();
      return;
    }
    if (this.host.now() > this.tokenExpiresAt) {
      this.sendError('UNAUTHENTICATED', 'agent token expired', true);
      this.close(CLOSE_CODES.UNAUTHENTICATED, 'agent token expired');
      return;
    }
    // A peer that sent frames since the last check proved itself alive: it is not pinged, and not
    // judged until it has been pinged (a heartbeat a little late is not a dead agent).
    if (this.heardSinceCheck) {
      this.heardSinceCheck = false;
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  private allowFrame(): boolean {
    const now = this.host.now();
    const { framesPerSecond, burst } = this.host.flood;
    this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) / 1000) * framesPerSecond);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private onMessage(data: Buffer | Buffer[], isBinary: boolean): void {
    if (this.state === 'closed') return;
    this.alive = true;
    this.heardSinceCheck = true;
    if (!this.allowFrame()) {
      this.sendError('RATE_LIMITED', 'too many frames', false);
      this.close(CLOSE_CODES.POLICY_VIOLATION, 'frame flood');
      return;
    }
    let parsed: ParseResult<FrameToControlPlane>;
    if (isBinary) {
      parsed = { ok: false, error: { code: 'MALFORMED_JSON', message: 'binary frames are not part of the protocol', recoverable: true } };
    } else if (Buffer.isBuffer(data)) {
      // ws has already checked that a text message is valid UTF-8 (skipUTF8Validation stays off),
      // so decoding cannot differ from parseFrame's strict decode; the text is decoded once.
      const text = data.toString('utf8');
      if (this.state === 'ready') {
        // The hot path: a heartbeat the hand-written check takes, or parseFrame for anything else.
        const heartbeat = parseHeartbeatFast(text, this.host.maxFrameBytes, this.lastAllocations);
        if (heartbeat) {
          this.lastAllocations = heartbeat.payload.allocations;
          this.host.live.heartbeat(this.nodeId, heartbeat.payload.usage, this.host.now(), heartbeat.payload.allocations);
          return;
        }
      }
      parsed = parseFrame(text, { maxBytes: this.host.maxFrameBytes, direction: 'to-control-plane' });
    } else {
      parsed = parseFrame(data, { maxBytes: this.host.maxFrameBytes, direction: 'to-control-plane' });
    }
    if (!parsed.ok) {
      if (parsed.error.code === 'PROTOCOL_VERSION_UNSUPPORTED') {
        this.refuseVersion(parsed.error.message);
        return;
      }
      this.badFrames += 1;
      this.sendError(parsed.error.code, parsed.error.message, parsed.error.recoverable);
      if (this.badFrames > MAX_BAD_FRAMES) this.close(CLOSE_CODES.MALFORMED, 'too many malformed frames');
      return;
    }
    this.handle(parsed.frame);
  }

  private handle(frame: Frame): void {
    if (this.state === 'awaiting-hello' || this.state === 'admitting') {
      if (frame.type !== 'hello' || this.state === 'admitting') {
        this.sendError('UNEXPECTED_FRAME', `expected hello first, got ${frame.type}`, false);
        this.close(CLOSE_CODES.MALFORMED, 'hello must be the first frame');
        return;
      }
      this.onHello(frame.payload);
      return;
    }
    switch (frame.type) {
      case 'heartbeat':
        this.host.live.heartbeat(this.nodeId, frame.payload.usage, this.host.now(), frame.payload.allocations);
        return;
      case 'token-refresh-request':
        this.onTokenRefresh();
        return;
      case 'hello':
        this.sendError('UNEXPECTED_FRAME', 'hello was already received', true);
        return;
      default:
        this.host.agentFrame(this, frame as FrameToControlPlane);
        return;
    }
  }

  private onHello(hello: Extract<Frame, { type: 'hello' }>['payload']): void {
    const compat = checkCompatibility(hello.protocolVersion, PROTOCOL_VERSION);
    if (!compat.ok) {
      this.refuseVersion(compat.error.message);
      return;
    }
    this.state = 'admitting';
    this.host.admit(this.nodeId, hello).then(
      (generation) => {
        if (this.state !== 'admitting') return;
        this.generation = generation;
        if (!this.host.install(this)) {
          this.sendError('SUPERSEDED', 'a newer session for this node exists', false);
          this.close(CLOSE_CODES.SUPERSEDED, 'superseded by a newer session');
          return;
        }
        this.state = 'ready';
        this.send({
          type: 'welcome',
          payload: {
            nodeId: this.nodeId,
            heartbeatIntervalMs: this.host.heartbeatSeconds * 1000,
            sessionGeneration: generation,
            serverProtocolVersion: PROTOCOL_VERSION,
          },
        });
        this.host.ready(this);
      },
      (err: unknown) => {
        this.host.logger.warn({ err, nodeId: this.nodeId }, 'agent admission failed');
        this.sendError('INTERNAL', 'admission failed; retry', true);
        this.close(CLOSE_CODES.INTERNAL, 'admission failed');
      },
    );
  }

  private refuseVersion(message: string): void {
    this.sendError('PROTOCOL_VERSION_UNSUPPORTED', message, false);
    this.close(CLOSE_CODES.PROTOCOL_VERSION_UNSUPPORTED, message);
  }

  private onTokenRefresh(): void {
    this.host.refreshToken(this.nodeId).then(
      (t) => {
        this.tokenExpiresAt = t.expiresAtMs;
        this.send({ type: 'token-refresh', payload: { token: t.token, expiresAt: t.expiresAt } });
      },
      (err: unknown) => {
        this.host.logger.warn({ err, nodeId: this.nodeId }, 'agent token refresh failed');
        this.sendError('INTERNAL', 'token refresh failed; retry', true);
      },
    );
  }

  private onClose(): void {
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.host.removed(this);
    }
  }
}
