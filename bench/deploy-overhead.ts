// deploy-overhead (docs: ../shared/design/BENCHMARKS.md): git push webhook → app answering through
// its route, minus the same build + run done by hand in the same run. Needs the Docker engine,
// git and the base images the tests make (made here if missing). Knobs in bench/deploy/overhead-bench.ts.
import type { Benchmark } from './report';
import { runDeployOverhead } from './deploy/overhead-bench';

export const benchmarks: Benchmark[] = [
  {
    id: 'deploy-overhead',
    title: 'git push webhook → app answering through its route, versus plain docker build + docker run',
    run: runDeployOverhead,
  },
];
