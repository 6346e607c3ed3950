// api (docs: ../shared/design/BENCHMARKS.md): the customer API under 200 concurrent clients
// (autocannon, one instance, each request drawn at random: 90% reads, 10% writes) while ~1,000
// simulated agents are connected and heartbeating. The built control plane (`npm run build` is run
// when apps/control-plane/dist is missing) runs as its own process with embedded PostgreSQL in a
// temp dir and the per-user mutation limit lifted; 50 business-tier customers, one project and 4
// apps each, are set up through the real API. Knobs (environment): API_AGENTS (1000), API_SECONDS
// (20), API_CONNECTIONS (200), API_CUSTOMERS (50), API_APPS_PER_CUSTOMER (4), API_HEARTBEAT_S (10),
// API_WARMUP_S (3, not reported), API_RATE (unset: closed loop; else requests/s offered over all
// connections, at least API_CONNECTIONS), API_PROFILE=1 (afterwards, 10 s more with the control plane's
// CPU profiler on; prints the top frames per request).
import type { Benchmark } from './report';
import { runApi } from './api/api-bench';

export const benchmarks: Benchmark[] = [
  {
    id: 'api',
    title: 'customer API: 200 concurrent clients, 90% reads / 10% writes, while agents are connected',
    run: runApi,
  },
];
