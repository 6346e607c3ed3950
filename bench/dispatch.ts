// sched-commit and dispatch (docs: ../shared/design/BENCHMARKS.md). Both run the product's code in
// this process against an embedded PostgreSQL in a temp dir: sched-commit drives the scheduler and
// the planner's commitPlacements; dispatch runs the whole control plane with simulated agents in
// child processes (bench/dispatch/agent-sim.ts). Knobs are listed at the top of each module.
import type { Benchmark } from './report';
import { runDispatch } from './dispatch/dispatch-bench';
import { runSchedCommit } from './dispatch/sched-commit';

export const benchmarks: Benchmark[] = [
  {
    id: 'sched-commit',
    title: 'placements decided and committed to PostgreSQL with their tasks queued, batched',
    run: runSchedCommit,
  },
  {
    id: 'dispatch',
    title: 'planner commit → frame on the agent socket, at 1,000 dispatches/s with 10,000 agents connected',
    run: runDispatch,
  },
];
