// Routing on one node, assembled: the challenge store and responder, and render → write of the
// proxy dir for every desired state. main.ts calls start(), apply(state) and stop(); the
// `issue-challenge` task handler is `issueChallenge`.
import type { Logger } from 'pino';
import type { DesiredStatePayload } from '@karvon/protocol';
import { createChallengeStore } from './challenge-store';
import { startChallengeResponder, type ChallengeResponder } from './challenge-responder';
import { renderDynamicConfig } from './dynamic-config';
import { createIssueChallengeHandler } from './issue-challenge-task';
import { createProxyWriter } from './proxy-writer';

export interface NodeRoutingOptions {
  stateDir: string;
  proxyDir: string;
  /** Loopback port of the challenge responder; 0 picks a free one (tests). */
  challengePort: number;
  logger: Logger;
}

export function createNodeRouting(o: NodeRoutingOptions) {
  const log = o.logger.child({ component: 'routing' });
  const challenges = createChallengeStore(o.stateDir);
  const writer = createProxyWriter({ proxyDir: o.proxyDir, logger: log });
  let responder: ChallengeResponder | undefined;
  // One write at a time. Each apply queues a turn; a turn writes the newest state not yet written,
  // so states arriving during a write collapse into one (a snapshot supersedes the previous one).
  let latest: Pick<DesiredStatePayload, 'routes' | 'certificates' | 'allocations'> | undefined;
  let queue: Promise<void> = Promise.resolve();

  const agentUpstream = () => `127.0.0.1:${responder?.port ?? o.challengePort}`;

  async function writeLatest(): Promise<void> {
    const state = latest;
    latest = undefined;
    if (state) {
      try {
        const rendered = renderDynamicConfig({
          routes: state.routes,
          certificates: state.certificates,
          allocations: state.allocations,
          agentUpstream: agentUpstream(),
          certificatesDir: writer.certificatesDir,
        });
        for (const r of rendered.refused) log.warn(r, 'routing input refused: nothing rendered for it');
        await writer.write(rendered);
      } catch (err) {
        // The previous file stays in place: Traefik keeps serving the last good config.
        log.error({ err }, 'proxy config not written; the previous one stays in place');
      }
    }
  }

  return {
    issueChallenge: createIssueChallengeHandler(challenges),
    configFile: writer.configFile,
    get challengePort(): number | undefined {
      return responder?.port;
    },
    async start(): Promise<void> {
      await challenges.load();
      try {
        responder = await startChallengeResponder({ answers: challenges, port: o.challengePort, logger: log });
      } catch (err) {
        // Apps keep running and routing without it; only HTTP-01 answers and 503s are missing.
        log.error({ err, port: o.challengePort }, 'challenge responder cannot listen: HTTP-01 challenges will fail');
      }
    },
    /** Renders and writes the proxy dir for this desired state; never throws. */
    apply(state: Pick<DesiredStatePayload, 'routes' | 'certificates' | 'allocations'>): Promise<void> {
      latest = state;
      queue = queue.then(writeLatest);
      return queue;
    },
    async stop(): Promise<void> {
      await queue;
      await responder?.close();
    },
  };
}

export type NodeRouting = ReturnType<typeof createNodeRouting>;
