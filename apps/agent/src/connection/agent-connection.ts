import type { Logger } from 'pino';
import WebSocket from 'ws';
import {
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  encodeFrame,
  parseFrame,
  type AllocationStatus,
  type DesiredStatePayload,
  type Frame,
  type NodeFacts,
  type NodeUsage,
  type Task,
} from '@karvon/protocol';
import { INITIAL_RECONNECT, nextReconnect, type SessionOutcome } from './backoff';
import { NodeRejectedError, fetchAgentToken } from './control-plane-api';
import { createEarlyReport } from './early-report';
import { createUsageSource } from './usage-source';
import { createHeldFrames } from './held-frames';

export interface ConnectionDeps {
  controlPlane: string;
  nodeId: string;
  credential: string;
  agentVersion: string;
  logger: Logger;
  facts(): Promise<NodeFacts>;
  usage(): Promise<NodeUsage>;
  appliedGeneration(): number;
  /** the actual state of each allocation, reported in every heartbeat */
  allocations?(): Promise<AllocationStatus[]>;
  /** records (later: converges on) a desired state; the generation is acknowledged once it resolves */
  onDesiredState(state: DesiredStatePayload): Promise<void>;
  onTask(task: Task): void;
  /** log-credit and task-cancel, from the current session only */
  onLogCredit?(taskId: string, upToSeq: number): void;
  onTaskCancel?(taskId: string): void;
  /** a welcomed session ended: whatever depended on it (credits for log streams) stops */
  onSessionEnd?(): void;
  random?: () => number;
}

/** Why the connection loop ended for good: it never ends on a lost connection. */
export type ConnectionEnd = 'stopped' | 'revoked' | 'incompatible';

/**
 * Changes within this make one early heartbeat (a reconcile pass reports its changes together);
 * early heartbeats are at least the gap apart on average.
 */
const EARLY_REPORT_DELAY_MS = 20;
const EARLY_REPORT_MIN_GAP_MS = 1_000;

/** The close code of a control plane going away (RFC 6455): it is restarting and said so. */
const CLOSE_GOING_AWAY = 1001;

type SessionEnd = ({ kind: 'retry' } & SessionOutcome) | { kind: 'final'; end: ConnectionEnd };

/**
 * Keeps one authenticated WebSocket to the control plane: credential → short-lived JWT, hello,
 * heartbeats at the interval the server gives, token refresh before expiry, and reconnection
 * with jittered exponential backoff (capped at 60 s) after any loss, or within a few seconds after
 * the control plane announced its restart (close 1001). Only a revoked node or an incompatible
 * protocol stops it.
 */
export function createAgentConnection(deps: ConnectionDeps) {
  const random = deps.random ?? Math.random;
  const log = deps.logger;
  let stopped = false;
  let current: WebSocket | undefined;
  let sessionGeneration: number | undefined;
  let applying: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;
  // The live session's early heartbeat (reportSoon), while one is welcomed.
  let requestReport: (() => void) | undefined;
  // Build log lines sent between sessions: delivered after the next welcome instead of lost.
  const held = createHeldFrames();

  async function sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    wake = undefined;
  }

  async function session(): Promise<SessionEnd> {
    let auth: { token: string; expiresAt: string };
    try {
      auth = await fetchAgentToken(deps.controlPlane, deps.credential);
    } catch (e) {
      if (e instanceof NodeRejectedError) {
        log.error({ code: e.code }, `the control plane refused this node's credential (${e.message}); this node was removed or never registered there. Not retrying: register again with a new token.`);
        return { kind: 'final', end: 'revoked' };
      }
      log.warn({ err: (e as Error).message }, 'cannot get an agent token');
      return { kind: 'retry', welcomed: false };
    }
    const facts = await deps.facts();
    // Stopped while the token or the facts were awaited: no socket is opened (stop() had none to close).
    if (stopped) return { kind: 'final', end: 'stopped' };
    const wsUrl = `${deps.controlPlane.replace(/^http/, 'ws')}/api/v1/agent/connect`;
    const ws = new WebSocket(wsUrl, {
      headers: { authorization: `Bearer ${auth.token}` },
      maxPayload: MAX_FRAME_BYTES['to-agent'],
      perMessageDeflate: false,
      handshakeTimeout: 15_000,
    });
    current = ws;
    return new Promise<SessionEnd>((resolve) => {
      let welcomed = false;
      let finalEnd: ConnectionEnd | undefined;
      let heartbeat: NodeJS.Timeout | undefined;
      let refresh: NodeJS.Timeout | undefined;
      let lastHeard = Date.now();
      let intervalMs = 30_000;
      const send = (frame: Frame) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(encodeFrame(frame));
      };
      const scheduleRefresh = (expiresAt: string) => {
        if (refresh) clearTimeout(refresh);
        const ms = Math.max(1_000, (Date.parse(expiresAt) - Date.now()) * 0.75);
        refresh = setTimeout(() => send({ type: 'token-refresh-request', payload: {} }), ms);
      };
      const early = createEarlyReport({ delayMs: EARLY_REPORT_DELAY_MS, minGapMs: EARLY_REPORT_MIN_GAP_MS, beat: () => void beat(true) });
      const usage = createUsageSource(() => deps.usage());
      const beat = async (changed = false) => {
        // A control plane that stopped answering pings and frames is treated as gone.
        if (Date.now() - lastHeard > intervalMs * 3 + 5_000) {
          log.warn('control plane silent; reconnecting');
          ws.terminate();
          return;
        }
        // The control plane pings only peers it has not heard from; an agent that heartbeats on
        // time may hear nothing back for a while, so it asks itself (the pong counts as heard).
        if (Date.now() - lastHeard > intervalMs * 1.5 && ws.readyState === WebSocket.OPEN) ws.ping();
        try {
          const [nodeUsage, allocations] = await Promise.all([usage.forHeartbeat(changed), deps.allocations?.() ?? []]);
          send({
            type: 'heartbeat',
            payload: { sentAt: new Date().toISOString(), appliedGeneration: deps.appliedGeneration(), usage: nodeUsage, allocations },
          });
          early.sent();
        } catch (err) {
          log.warn({ err }, 'heartbeat failed');
        }
      };
      ws.on('open', () => {
        lastHeard = Date.now();
        send({
          type: 'hello',
          payload: { protocolVersion: PROTOCOL_VERSION, agentVersion: deps.agentVersion, facts, appliedGeneration: deps.appliedGeneration() },
        });
      });
      ws.on('ping', () => {
        lastHeard = Date.now();
      });
      ws.on('pong', () => {
        lastHeard = Date.now();
      });
      ws.on('message', (data, isBinary) => {
        lastHeard = Date.now();
        if (isBinary) return;
        const parsed = parseFrame(data, { direction: 'to-agent' });
        if (!parsed.ok) {
          log.warn({ code: parsed.error.code }, `bad frame from control plane: ${parsed.error.message}`);
          return;
        }
        const frame = parsed.frame;
        switch (frame.type) {
          case 'welcome':
            welcomed = true;
            sessionGeneration = frame.payload.sessionGeneration;
            intervalMs = frame.payload.heartbeatIntervalMs;
            log.info({ nodeId: frame.payload.nodeId, sessionGeneration: frame.payload.sessionGeneration, heartbeatMs: intervalMs }, 'connected to the control plane');
            for (const f of held.take()) send(f);
            void beat();
            heartbeat = setInterval(() => void beat(), intervalMs);
            requestReport = () => early.request();
            scheduleRefresh(auth.expiresAt);
            return;
          case 'desired-state': {
            // Fencing: instructions from another session (an older one, replayed late) are not ours.
            if (frame.payload.sessionGeneration !== sessionGeneration) {
              log.warn({ got: frame.payload.sessionGeneration, session: sessionGeneration }, 'ignoring a desired state from another session');
              return;
            }
            const state = frame.payload;
            // Applied one at a time, in arrival order: a newer snapshot never races an older one.
            applying = applying
              .then(() => deps.onDesiredState(state))
              .then(
                () => send({ type: 'desired-state-ack', payload: { generation: state.generation } }),
                (err: unknown) => log.error({ err, generation: state.generation }, 'cannot apply desired state'),
              );
            return;
          }
          case 'task':
            if (frame.payload.sessionGeneration !== sessionGeneration) {
              log.warn({ taskId: frame.payload.id }, 'ignoring a task from another session');
              return;
            }
            deps.onTask(frame.payload);
            return;
          case 'log-credit':
            deps.onLogCredit?.(frame.payload.taskId, frame.payload.upToSeq);
            return;
          case 'task-cancel':
            deps.onTaskCancel?.(frame.payload.taskId);
            return;
          case 'token-refresh':
            auth = { token: frame.payload.token, expiresAt: frame.payload.expiresAt };
            scheduleRefresh(auth.expiresAt);
            return;
          case 'error':
            log.warn({ code: frame.payload.code, recoverable: frame.payload.recoverable }, `control plane: ${frame.payload.message}`);
            if (frame.payload.code === 'NODE_REVOKED') finalEnd = 'revoked';
            if (frame.payload.code === 'PROTOCOL_VERSION_UNSUPPORTED') finalEnd = 'incompatible';
            return;
          default:
            return;
        }
      });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => {
          if (res.statusCode === 401 && body.includes('NODE_REVOKED')) finalEnd = 'revoked';
          log.warn({ status: res.statusCode }, `connection refused: ${body.slice(0, 200)}`);
          ws.terminate();
        });
      });
      ws.on('error', (err) => log.debug({ err: err.message }, 'socket error'));
      ws.on('close', (code, reason) => {
        if (heartbeat) clearInterval(heartbeat);
        if (refresh) clearTimeout(refresh);
        early.cancel();
        requestReport = undefined;
        current = undefined;
        sessionGeneration = undefined;
        if (welcomed) deps.onSessionEnd?.();
        if (code === CLOSE_CODES.NODE_REVOKED) finalEnd = 'revoked';
        if (code === CLOSE_CODES.PROTOCOL_VERSION_UNSUPPORTED) finalEnd = 'incompatible';
        if (finalEnd === 'revoked') log.error('this node was removed from the control plane; the agent stops reconnecting. Register again with a new token.');
        else if (finalEnd === 'incompatible') log.error(`the control plane refused protocol ${PROTOCOL_VERSION}: ${reason.toString()}; upgrade the agent or the control plane`);
        else if (!stopped) log.warn({ code, reason: reason.toString() }, 'connection lost');
        // 1001 "going away": the control plane is restarting and said so; its successor is expected soon.
        if (finalEnd) resolve({ kind: 'final', end: finalEnd });
        else if (welcomed) resolve({ kind: 'retry', welcomed, restartAnnounced: code === CLOSE_GOING_AWAY });
        else resolve({ kind: 'retry', welcomed });
      });
    });
  }

  return {
    async run(): Promise<ConnectionEnd> {
      let schedule = INITIAL_RECONNECT;
      while (!stopped) {
        const end = await session();
        if (end.kind === 'final') return end.end;
        if (stopped) break;
        const next = nextReconnect(schedule, end, random);
        schedule = next.state;
        log.info({ delayMs: next.delayMs, attempt: schedule.attempt, restartTriesLeft: schedule.restartTriesLeft }, 'reconnecting');
        await sleep(next.delayMs);
      }
      return 'stopped';
    },
    /** sends on the live socket if there is one; else task progress is held for the next session, other frames are recovered by redelivery */
    send(frame: Frame): void {
      if (current?.readyState === WebSocket.OPEN && sessionGeneration !== undefined) current.send(encodeFrame(frame));
      else held.hold(frame);
    },
    /** an allocation's state or upstream changed: a heartbeat soon rather than at the interval */
    reportSoon(): void {
      requestReport?.();
    },
    /** bytes queued on the live socket and not yet written (0 without one) */
    bufferedAmount(): number {
      return current?.bufferedAmount ?? 0;
    },
    stop(): void {
      stopped = true;
      current?.close(1000, 'agent stopping');
      wake?.();
    },
  };
}
