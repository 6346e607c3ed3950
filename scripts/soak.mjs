#!/usr/bin/env node
// Soak: deploys with a fault every few seconds on a region of real Docker engines, checking the
// invariants (test/multinode/soak.ts). Not part of `npm test`. Needs root, dockerd and the main
// engine running (for the base images); build first (`npm run build`) so the agent bin is current.
//
//   node scripts/soak.mjs [--minutes 10] [--fault-every 5] [--nodes 3] [--apps 3] [--replicas 2] [--grace 10]
//
// Exits 0 when every invariant held, 1 otherwise; prints a JSON summary last.
import { parseArgs } from 'node:util';
import { register } from 'tsx/esm/api';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'fault-every': { type: 'string', default: '5' },
    nodes: { type: 'string', default: '3' },
    apps: { type: 'string', default: '3' },
    replicas: { type: 'string', default: '2' },
    grace: { type: 'string', default: '10' },
  },
});
const num = (name) => {
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: a positive number`);
  return v;
};

register();
const { runSoak } = await import('../test/multinode/soak.ts');
const t0 = Date.now();
const log = (line) => console.log(`[soak +${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}`);

const summary = await runSoak({
  durationMs: num('minutes') * 60_000,
  faultEveryMs: num('fault-every') * 1000,
  nodes: Math.max(2, Math.floor(num('nodes'))),
  apps: Math.floor(num('apps')),
  replicas: Math.floor(num('replicas')),
  graceSeconds: Math.floor(num('grace')),
  log,
}).catch((e) => {
  console.error(e);
  return { ok: false, error: String(e?.stack ?? e) };
});
console.log(JSON.stringify(summary, null, 2));
process.exit(summary.ok ? 0 : 1);
