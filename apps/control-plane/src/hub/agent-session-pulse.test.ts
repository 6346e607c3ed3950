// The hub's pulse on one session: a quiet agent is pinged and ended only when the ping goes
// unanswered for a whole interval; an agent that sent frames is neither pinged nor ended.
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import type WebSocket from 'ws';
import { describe, expect, it, vi } from 'vitest';
import { AgentSession, type SessionHost } from './agent-session';

function session() {
  const ws = Object.assign(new EventEmitter(), { ping: vi.fn(), terminate: vi.fn(), close: vi.fn(), send: vi.fn() });
  const host = { logger: pino({ level: 'silent' }), flood: { framesPerSecond: 100, burst: 100 }, now: () => 0, removed: vi.fn(), maxFrameBytes: 1 << 20 } as unknown as SessionHost;
  const s = new AgentSession('node_a', ws as unknown as WebSocket, Number.MAX_SAFE_INTEGER, host);
  // Any text frame counts as hearing from the agent (a bad one is answered with an error frame).
  const frame = () => ws.emit('message', Buffer.from('{}'), false);
  return { s, ws, frame };
}

describe('session pulse', () => {
  it('pings a quiet agent and ends it when the ping goes unanswered for an interval', () => {
    const { s, ws } = session();
    s.checkPulse();
    expect(ws.ping).toHaveBeenCalledTimes(1);
    expect(ws.terminate).not.toHaveBeenCalled();
    s.checkPulse();
    expect(ws.terminate).toHaveBeenCalledTimes(1);
  });

  it('keeps an agent that answers the ping', () => {
    const { s, ws } = session();
    s.checkPulse();
    ws.emit('pong');
    s.checkPulse();
    expect(ws.terminate).not.toHaveBeenCalled();
  });

  it('does not end an agent whose frame came just before a check and whose next one is late', () => {
    const { s, ws, frame } = session();
    frame();
    s.checkPulse(); // heard: no ping
    expect(ws.ping).not.toHaveBeenCalled();
    s.checkPulse(); // quiet for one interval: pinged, not ended
    expect(ws.ping).toHaveBeenCalledTimes(1);
    expect(ws.terminate).not.toHaveBeenCalled();
    frame(); // the late heartbeat
    s.checkPulse();
    s.checkPulse(); // pinged again after another quiet interval
    expect(ws.terminate).not.toHaveBeenCalled();
    s.checkPulse(); // that ping unanswered: ended
    expect(ws.terminate).toHaveBeenCalledTimes(1);
  });
});
