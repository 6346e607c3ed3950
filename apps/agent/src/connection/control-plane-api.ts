import type { NodeFacts } from '@karvon/protocol';

/** A refusal the agent must not retry: the control plane says this node is gone or unknown. */
export class NodeRejectedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A failure worth retrying later: network, 5xx, timeouts. */
export class TransientError extends Error {}

interface ErrorBody {
  error?: { code?: string; message?: string };
}

async function call<T>(url: string, init: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new TransientError(`control plane unreachable: ${(e as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.ok) return body as T;
  const err = (body as ErrorBody | undefined)?.error;
  const message = err?.message ?? `HTTP ${res.status}`;
  if (res.status === 401 || res.status === 400 || res.status === 404) throw new NodeRejectedError(err?.code ?? String(res.status), message);
  throw new TransientError(`control plane answered ${res.status}: ${message}`);
}

export function registerWithControlPlane(
  controlPlane: string,
  body: { token: string; hostname: string; name?: string; agentVersion: string; facts: NodeFacts },
): Promise<{ nodeId: string; credential: string }> {
  return call(`${controlPlane}/api/v1/agent/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

export async function fetchAgentToken(controlPlane: string, credential: string): Promise<{ token: string; expiresAt: string }> {
  return call(`${controlPlane}/api/v1/agent/token`, { method: 'POST', headers: { authorization: `Bearer ${credential}` } });
}
