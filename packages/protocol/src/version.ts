import { protocolError, type ProtocolError } from './errors';

/**
 * The protocol version, `MAJOR.MINOR`. Within one major every change is additive: a minor may add
 * optional fields (older peers strip them as unknown keys), new frame types or new enum values.
 * Peers learn each other's version in hello/welcome and must not send a frame type or enum value
 * the other side's minor does not know. A breaking change bumps the major.
 */
export const PROTOCOL_VERSION = '1.0';

export interface ProtocolVersion {
  major: number;
  minor: number;
}

// Up to 6 digits per part: enough for any real version, and never a number that loses precision.
const VERSION = /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$/;

/** Parses `MAJOR.MINOR` (no leading zeros, no `v`, no patch); undefined when it is not one. */
export function parseProtocolVersion(value: unknown): ProtocolVersion | undefined {
  if (typeof value !== 'string') return undefined;
  const m = VERSION.exec(value);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export type CompatibilityResult =
  | {
      ok: true;
      /** `MAJOR.MINOR` with the lower of the two minors: what both sides understand. */
      negotiated: string;
    }
  | { ok: false; error: ProtocolError };

/**
 * Same major: compatible, whichever side has the newer minor. A different major, or a version that
 * does not parse, is PROTOCOL_VERSION_UNSUPPORTED.
 */
export function checkCompatibility(agentVersion: string, serverVersion: string): CompatibilityResult {
  const agent = parseProtocolVersion(agentVersion);
  const server = parseProtocolVersion(serverVersion);
  if (!agent) return unsupported(`agent protocol version ${show(agentVersion)} is not MAJOR.MINOR`);
  if (!server) return unsupported(`server protocol version ${show(serverVersion)} is not MAJOR.MINOR`);
  if (agent.major !== server.major) {
    return unsupported(
      `agent speaks protocol ${agent.major}.${agent.minor}, server speaks ${server.major}.${server.minor}: major versions differ`,
    );
  }
  return { ok: true, negotiated: `${agent.major}.${Math.min(agent.minor, server.minor)}` };
}

function unsupported(message: string): CompatibilityResult {
  return { ok: false, error: protocolError('PROTOCOL_VERSION_UNSUPPORTED', message) };
}

// The declared types are strings, but the values come from the wire.
function show(value: unknown): string {
  if (typeof value !== 'string') return `(${typeof value})`;
  return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value);
}
