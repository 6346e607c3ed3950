// Stopping the control plane under connected agents: each is told "going away" (1001, so it comes
// back promptly to the next process), and an agent that never answers the close handshake does not
// hold the shutdown for ws's 30 s close timeout: its socket is cut after a short wait.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../test/api-client';
import { agentToken, connectRawAgent, registerNode, type RawAgent } from '../../../test/agents';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';

let cp: TestControlPlane;
let admin: ApiClient;
const open: RawAgent[] = [];

beforeAll(async () => {
  cp = await startTestControlPlane();
  admin = await cp.adminClient();
});
afterAll(async () => {
  for (const a of open) a.ws.terminate();
  await cp?.stop();
});

async function admitted(): Promise<RawAgent> {
  const node = await registerNode(admin, 'hub-stop');
  const agent = await connectRawAgent(cp.url, await agentToken(cp.api, node.credential));
  open.push(agent);
  agent.hello();
  await agent.nextFrame('welcome');
  return agent;
}

describe('hub stop', () => {
  it('tells agents 1001 going away and does not wait on one that never answers the close handshake', { timeout: 15_000 }, async () => {
    const polite = await admitted();
    const deaf = await admitted();
    // Stops reading: the close frame is never seen, so no close frame is ever sent back.
    deaf.ws.pause();
    await cp.stop();
    expect(await polite.closed).toMatchObject({ code: 1001 });
  });
});
