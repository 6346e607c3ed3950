// Messages between the benchmark (parent) and a simulator process (child), over Node's IPC channel.

export interface SimAgentSpec {
  nodeId: string;
  credential: string;
  hostname: string;
}

export interface SimInit {
  cmd: 'init';
  baseUrl: string;
  /** 127.0.0.x this process binds its sockets to */
  localAddress: string;
  agents: SimAgentSpec[];
  heartbeatMinBytes: number;
  /** sessions opening at once during the first connect (reconnects are not limited, like real agents) */
  connectConcurrency: number;
}

export type ParentToSim =
  | (SimInit & { id: number })
  | { cmd: 'connect'; id: number }
  /** perSecond > 0: heartbeats at this rate over all ready agents, instead of one per interval each */
  | { cmd: 'rate'; id: number; perSecond: number }
  /** stop heartbeats and stop reading the sockets (no pong, no FIN): a silent death */
  | { cmd: 'silence'; id: number }
  | { cmd: 'stats'; id: number }
  | { cmd: 'welcome-times'; id: number }
  | { cmd: 'stop'; id: number };

export interface SimStats {
  agents: number;
  /** agents whose socket is open and welcomed */
  ready: number;
  welcomes: number;
  heartbeats: number;
  heartbeatBytes: number;
  tokenFailures: number;
  upgradeFailures: number;
  closes: number;
  errorFrames: Record<string, number>;
  /** failed token exchanges by kind (refused, HTTP status, timeout, …) */
  tokenFailureKinds: Record<string, number>;
  /** of welcomed sessions: summed ms from the token request to its answer, from there to the open socket, from there to the welcome */
  phaseMs: { token: number; upgrade: number; welcome: number; sessions: number };
  /** ms since epoch of the latest welcome */
  lastWelcomeAt: number;
  rssKb: number;
}

export interface SilenceResult {
  silencedAt: number;
  nodes: Array<{ nodeId: string; lastHeartbeatAt: number }>;
}

export type SimToParent =
  | { id: number; ok: true; stats?: SimStats; silence?: SilenceResult; welcomeTimes?: Record<string, number> }
  | { id: number; ok: false; error: string };
