// Messages between the dispatch benchmark (parent) and an agent simulator (child), over Node's IPC
// channel. Times are process.hrtime.bigint() values (CLOCK_MONOTONIC, shared by every process on
// the machine), sent as decimal strings.

export interface DispatchSimAgent {
  nodeId: string;
  credential: string;
  hostname: string;
}

export interface DispatchSimInit {
  cmd: 'init';
  baseUrl: string;
  /** the 127.0.0.x address this process binds its sockets to */
  localAddress: string;
  agents: DispatchSimAgent[];
  /** sessions opening at once */
  connectConcurrency: number;
  /** answer desired-state with desired-state-ack and tasks with task-ack + task-result, as the agent does */
  ack: boolean;
}

export type ParentToDispatchSim =
  | (DispatchSimInit & { id: number })
  | { cmd: 'connect'; id: number }
  | { cmd: 'stats'; id: number }
  /** start (or stop) recording frame arrivals; `collect` returns and clears them */
  | { cmd: 'record'; id: number; on: boolean }
  | { cmd: 'collect'; id: number }
  | { cmd: 'stop'; id: number };

export interface DispatchSimStats {
  agents: number;
  ready: number;
  welcomes: number;
  closes: number;
  failures: number;
  desiredStates: number;
  tasks: number;
  errorFrames: Record<string, number>;
  rssKb: number;
}

export interface Arrivals {
  /** [nodeId, generation, hrtime ns] per desired-state frame */
  desired: Array<[string, number, string]>;
  /** [echo, hrtime ns] per task frame */
  tasks: Array<[string, string]>;
}

export type DispatchSimToParent =
  | { id: number; ok: true; stats?: DispatchSimStats; arrivals?: Arrivals }
  | { id: number; ok: false; error: string };
