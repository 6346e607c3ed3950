// Machine floors (docs: ../shared/design/BENCHMARKS.md): what this machine allows with no Karvon
// code in the way, so a target can be compared with the floor under it.
// hub-floor: server CPU per 1 KB message for a naive ws + JSON server and a raw node:net server on
// loopback, each in its own process, driven by client processes. Knobs: HUB_FLOOR_CONNECTIONS
// (2000), HUB_FLOOR_RATE (1000 msgs/s over all connections), HUB_FLOOR_SECONDS (15, measured),
// HUB_FLOOR_WARMUP_S (3), HUB_FLOOR_CLIENTS (2 processes).
// api-ceiling: autocannon against a bare node:http server and a one-route Express 5 app, each in
// its own process, answering a small constant JSON. Knobs: API_CEILING_CONNECTIONS (200),
// API_CEILING_SECONDS (10, measured), API_CEILING_WARMUP_S (3, not reported).
import type { Benchmark } from './report';
import { runApiCeiling } from './floors/api-ceiling-bench';
import { runHubFloor } from './floors/hub-floor-bench';

export const benchmarks: Benchmark[] = [
  {
    id: 'hub-floor',
    title: 'machine floor for hub heartbeats: server CPU per 1 KB message, naive ws + JSON and raw net',
    run: runHubFloor,
  },
  {
    id: 'api-ceiling',
    title: 'machine ceiling for the API: bare node:http and a one-route Express 5 app under autocannon',
    run: runApiCeiling,
  },
];
