// A TCP relay between one agent and the control plane, so one node can be cut off from the control
// plane while its containers keep serving (a network partition, not a stopped machine). The agent
// is registered with the relay's URL, so every byte it exchanges with the control plane (HTTP,
// WebSocket) passes here.
//
// cut(): a black hole, as a partition is: open connections stay open but no byte moves in either
// direction (no FIN, no RST: each side finds out by its own timeouts); new connections are accepted
// and then get nothing. restore(): the held connections are destroyed (what a healed partition
// usually shows after the peers' timeouts) and new ones are relayed again.
import net from 'node:net';

export interface Relay {
  readonly port: number;
  readonly cut: boolean;
  cutOff(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startRelay(target: { host: string; port: number }): Promise<Relay> {
  let isCut = false;
  const pairs = new Set<{ a: net.Socket; b: net.Socket | undefined }>();

  const server = net.createServer((a) => {
    const pair: { a: net.Socket; b: net.Socket | undefined } = { a, b: undefined };
    pairs.add(pair);
    const end = () => {
      a.destroy();
      pair.b?.destroy();
      pairs.delete(pair);
    };
    a.on('error', end);
    a.on('close', end);
    if (isCut) {
      a.pause(); // held: nothing read, nothing answered
      return;
    }
    const b = net.connect(target.port, target.host);
    pair.b = b;
    b.on('error', end);
    b.on('close', end);
    a.on('data', (d) => {
      if (!isCut) b.write(d);
    });
    b.on('data', (d) => {
      if (!isCut) a.write(d);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('relay has no port');

  return {
    port: address.port,
    get cut() {
      return isCut;
    },
    cutOff() {
      isCut = true;
      for (const p of pairs) {
        p.a.pause();
        p.b?.pause();
      }
    },
    restore() {
      isCut = false;
      for (const p of [...pairs]) {
        p.a.destroy();
        p.b?.destroy();
        pairs.delete(p);
      }
    },
    close() {
      for (const p of pairs) {
        p.a.destroy();
        p.b?.destroy();
      }
      pairs.clear();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
