// Server child of hub-floor: `hub-floor-server.ts ws|net`. `ws`: a naive `ws` server
// (perMessageDeflate off) that JSON.parses every message; `net`: a raw node:net server that reads
// and discards. Listens on an ephemeral loopback port, sends `{type: 'listening', port}`, then
// answers `sample` with its own CPU and the messages handled (for `net`, bytes / HEARTBEAT_BYTES).
import net from 'node:net';
import { WebSocketServer } from 'ws';
import { answerCpuSamples } from './cpu-sample';
import { HEARTBEAT_BYTES } from './heartbeat-message';

const mode = process.argv[2];
let messages = 0;
let bytes = 0;

function listening(port: number): void {
  process.send?.({ type: 'listening', port });
}

if (mode === 'ws') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: false, maxPayload: 64 * 1024 });
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => {
      const v = JSON.parse(data.toString('utf8')) as { type?: unknown };
      if (v.type === 'heartbeat') messages += 1;
    });
  });
  wss.on('listening', () => listening((wss.address() as net.AddressInfo).port));
  answerCpuSamples(() => messages);
} else if (mode === 'net') {
  const server = net.createServer((s) => {
    s.on('data', (d) => {
      bytes += d.length;
    });
    s.on('error', () => s.destroy());
  });
  server.listen(0, '127.0.0.1', () => listening((server.address() as net.AddressInfo).port));
  answerCpuSamples(() => Math.floor(bytes / HEARTBEAT_BYTES));
} else {
  throw new Error(`hub-floor-server: mode must be ws or net, got ${mode}`);
}
process.on('disconnect', () => process.exit(0));
