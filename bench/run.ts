// `npm run bench [-- <id> ...]`: runs every benchmark, or only those whose id is named.
// Each benchmark module prints human lines (figure, anchor, ratio) and machine lines
// `BENCH <id> <name>=<value> <unit>` through bench/report.ts.
import type { Benchmark } from './report';

const registry: Array<() => Promise<{ benchmarks: Benchmark[] }>> = [
  () => import('./scheduler'),
  () => import('./hub'),
  () => import('./dispatch'),
  () => import('./api'),
  () => import('./deploy-overhead'),
  () => import('./floors'),
];

async function main(): Promise<void> {
  const wanted = new Set(process.argv.slice(2));
  const all: Benchmark[] = [];
  for (const load of registry) all.push(...(await load()).benchmarks);
  const chosen = wanted.size === 0 ? all : all.filter((b) => wanted.has(b.id));
  if (chosen.length === 0) {
    console.error(`no benchmark matches ${[...wanted].join(', ')}; known: ${all.map((b) => b.id).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  for (const bench of chosen) {
    console.log(`\n== ${bench.id}: ${bench.title}`);
    await bench.run();
  }
}

await main();
