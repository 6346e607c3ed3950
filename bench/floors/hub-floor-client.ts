// Client child of hub-floor: `hub-floor-client.ts ws|net <port> <connections> <rate>`. Opens the
// connections (100 at a time), sends `{type: 'open'}`, then sends `rate` 1 KB heartbeats per second
// spread round-robin over them (ticks of 10 ms, catching up on what is due), until killed.
import net from 'node:net';
import WebSocket from 'ws';
import { heartbeatMessage } from './heartbeat-message';

const [mode, portArg, connArg, rateArg] = process.argv.slice(2);
const port = Number(portArg);
const connections = Number(connArg);
const rate = Number(rateArg);
if ((mode !== 'ws' && mode !== 'net') || !(port > 0) || !(connections > 0) || !(rate > 0)) {
  throw new Error(`usage: hub-floor-client.ts ws|net <port> <connections> <rate>; got ${process.argv.slice(2).join(' ')}`);
}

const message = heartbeatMessage();
type Conn = { send(m: string): void };

function open(): Promise<Conn> {
  return new Promise((resolve, reject) => {
    if (mode === 'ws') {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
      ws.once('open', () => resolve({ send: (m) => ws.send(m) }));
      ws.once('error', reject);
    } else {
      const s = net.connect(port, '127.0.0.1', () => resolve({ send: (m) => void s.write(m) }));
      s.setNoDelay(true);
      s.once('error', reject);
    }
  });
}

const conns: Conn[] = [];
for (let i = 0; i < connections; i += 100) {
  const batch = Math.min(100, connections - i);
  conns.push(...(await Promise.all(Array.from({ length: batch }, open))));
}
process.send?.({ type: 'open' });
process.on('disconnect', () => process.exit(0));

let sent = 0;
let cursor = 0;
const start = performance.now();
setInterval(() => {
  const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent;
  for (let k = 0; k < due; k++) {
    conns[cursor]!.send(message);
    cursor = (cursor + 1) % conns.length;
  }
  sent += due;
}, 10);
