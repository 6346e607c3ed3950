// hub-floor: the machine's floor under hub-agents' "≤ 10 µs CPU per 1 KB heartbeat". For each of a
// naive `ws` server that JSON.parses every message and a raw node:net server that discards the
// bytes, in its own process: client processes open the connections and send the messages, and the
// server's own process.cpuUsage() over a steady window (after a warm-up) is divided by the messages
// it handled in that window.
import { report } from '../report';
import { cpuWindow, type CpuWindow } from './cpu-sample';
import { envNumber, sleep } from './env-knob';
import { startFloorChild, type FloorChild } from './floor-child';
import { machineLoadLine } from './machine-load';

const TARGET_US = 10;
const TARGET_LABEL = 'BENCHMARKS.md hub-agents target: <= 10 us CPU per 1 KB heartbeat';
const NOTE = 'BENCHMARKS.md: naive ws + JSON here ~ 31 us/heartbeat';

type Mode = 'ws' | 'net';

interface Knobs {
  connections: number;
  rate: number;
  seconds: number;
  warmupSeconds: number;
  clients: number;
}

function knobs(): Knobs {
  return {
    connections: envNumber('HUB_FLOOR_CONNECTIONS', 2000),
    rate: envNumber('HUB_FLOOR_RATE', 1000),
    seconds: envNumber('HUB_FLOOR_SECONDS', 15),
    warmupSeconds: envNumber('HUB_FLOOR_WARMUP_S', 3),
    clients: envNumber('HUB_FLOOR_CLIENTS', 2),
  };
}

/** Splits `total` into `parts` whole shares that add up to it. */
function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor((total * (i + 1)) / parts) - Math.floor((total * i) / parts));
}

async function measure(mode: Mode, k: Knobs): Promise<CpuWindow> {
  const server = startFloorChild('hub-floor-server.ts', [mode]);
  const clients: FloorChild[] = [];
  try {
    const port = String((await server.next('listening', 30_000)).port);
    const conns = shares(k.connections, k.clients);
    const rates = shares(k.rate, k.clients);
    for (let i = 0; i < k.clients; i++) clients.push(startFloorChild('hub-floor-client.ts', [mode, port, String(conns[i]), String(rates[i])]));
    await Promise.all(clients.map((c) => c.next('open', 300_000)));
    await sleep(k.warmupSeconds * 1000);
    const a = await server.sample();
    await sleep(k.seconds * 1000);
    const b = await server.sample();
    return cpuWindow(a, b);
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
    await server.stop();
  }
}

export async function runHubFloor(): Promise<void> {
  const k = knobs();
  console.log(`${k.connections} loopback connections from ${k.clients} client processes, ${k.rate} msgs/s of 1 KB, server CPU over ${k.seconds} s after ${k.warmupSeconds} s warm-up`);
  for (const [mode, name, what] of [
    ['ws', 'ws_json_us_per_msg', 'naive ws (perMessageDeflate off) + JSON.parse'],
    ['net', 'net_us_per_msg', 'raw node:net, read and discard'],
  ] as const) {
    const w = await measure(mode, k);
    const perSecond = w.units / w.seconds;
    console.log(
      `${what}: ${w.units} msgs in ${w.seconds.toFixed(1)} s (${perSecond.toFixed(0)}/s of ${k.rate}/s offered), ` +
        `server CPU ${(w.cpuUs / 1000).toFixed(0)} ms (user ${(w.userUs / w.units).toFixed(1)} + sys ${(w.systemUs / w.units).toFixed(1)} us/msg, ${(w.coreShare * 100).toFixed(1)}% of a core)`,
    );
    if (perSecond < k.rate * 0.95) console.log(`  warning: the server saw ${perSecond.toFixed(0)}/s, under 95% of the ${k.rate}/s offered (clients or machine saturated)`);
    report({ bench: 'hub-floor', name, value: w.usPerUnit, unit: 'us', anchor: TARGET_US, anchorLabel: TARGET_LABEL, higherIsBetter: false });
  }
  console.log(`note: ${NOTE}`);
  console.log(machineLoadLine());
}
