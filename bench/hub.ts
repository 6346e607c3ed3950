// hub-agents and hub-detect (docs: ../shared/design/BENCHMARKS.md). Both start the real control
// plane as a separate process (build it first: `npm run build`) with embedded PostgreSQL in a temp
// data dir, and drive it with simulated agents in child processes (bench/hub/sim-agents.ts).
// Knobs (environment): HUB_AGENTS (10000), HUB_HEARTBEATS_PER_S (3334), HUB_WINDOW_S (20), HUB_CONNECT_TIMEOUT_S (420),
// HUB_PROFILE=1 (after the measured windows, CPU-profile heartbeats, registration and connection
// through the inspector and print the top frames) for hub-agents; HUB_DETECT_AGENTS (10000),
// HUB_DETECT_SAMPLE (1000, half of it silenced), HUB_DETECT_HEARTBEAT_S (2), HUB_DETECT_GRACE_S (10), HUB_DETECT_LOG_LEVEL (warn),
// HUB_DETECT_PROFILE (1 or a directory: --cpu-prof of the restarted process, summarised per re-admitted agent)
// for hub-detect. At 10,000 agents on a shared 2-core machine each takes 3-5 minutes, most of it
// registering nodes through the real API (about 100-230 nodes/s) and connecting them.
import type { Benchmark } from './report';
import { runHubAgents } from './hub/agents-bench';
import { runHubDetect } from './hub/detect-bench';

export const benchmarks: Benchmark[] = [
  {
    id: 'hub-agents',
    title: 'agents held by one control-plane process: RSS per agent, CPU per heartbeat, database commits',
    run: runHubAgents,
  },
  {
    id: 'hub-detect',
    title: 'time to mark silently dead agents offline; re-admission after a control-plane restart',
    run: runHubDetect,
  },
];
