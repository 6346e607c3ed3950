// Routing on one node, assembled: the challenge store and responder, and render → write of the
// proxy dir for every desired state and every change of this node's routable replicas. main.ts
// calls start(), apply(state), setLocal(statuses) and stop(); the `issue-challenge` task handler
// is `issueChallenge`.
import type { Logger } from 'pino';
import type { AllocationStatus, DesiredAllocation, DesiredStatePayload } from '@karvon/protocol';
import { createChallengeStore } from './challenge-store';
import { startChallengeResponder, type ChallengeResponder } from './challenge-responder';
import { renderDynamicConfig } from './dynamic-config';
import { createIssueChallengeHandler } from './issue-challenge-task';
import { routableUpstreams, withLocalUpstreams } from './local-upstreams';
import { createProxyWriter } from './proxy-writer';

export interface NodeRoutingOptions {
  stateDir: string;
  proxyDir: string;
  /** Loopback port of the challenge responder; 0 picks a free one (tests). */
  challengePort: number;
  logger: Logger;
}

/** What routing reads of a desired state. */
export type RoutingState = Pick<DesiredStatePayload, 'routes' | 'certificates'> & {
  allocations: readonly Pick<DesiredAllocation, 'id' | 'appId' | 'healthCheck' | 'desiredStatus'>[];
};

export function createNodeRouting(o: NodeRoutingOptions) {
  const log = o.logger.child({ component: 'routing' });
  const challenges = createChallengeStore(o.stateDir);
  const writer = createProxyWriter({ proxyDir: o.proxyDir, logger: log });
  let responder: ChallengeResponder | undefined;
  // One write at a time. Each apply or local change queues a turn; a turn writes the newest state
  // with the newest local upstreams, if either changed since the last turn, so changes arriving
  // during a write collapse into one (a snapshot supersedes the previous one).
  let state: RoutingState | undefined;
  let routable: ReadonlyMap<string, string> = new Map();
  let dirty = false;
  let queue: Promise<void> = Promise.resolve();

  const agentUpstream = () => `127.0.0.1:${responder?.port ?? o.challengePort}`;

  async function writeLatest(): Promise<void> {
    if (!dirty || !state) return;
    dirty = false;
    try {
      const rendered = renderDynamicConfig({
        routes: withLocalUpstreams(state.routes, state.allocations, routable),
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
    apply(next: RoutingState): Promise<void> {
      state = next;
      dirty = true;
      queue = queue.then(writeLatest);
      return queue;
    },
    /**
     * The runtime's statuses: the replicas they report routable (healthy, not draining) join this
     * node's routes of their apps at once (local-upstreams.ts). Never throws.
     */
    setLocal(statuses: readonly Pick<AllocationStatus, 'allocationId' | 'upstream'>[]): Promise<void> {
      // Called on status changes only; an unchanged render is not rewritten (proxy-writer.ts).
      routable = routableUpstreams(statuses);
      dirty = true;
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
