// The agent's own HTTP server, on loopback only; Traefik (on the host) is its one client:
//   GET|HEAD /.well-known/acme-challenge/<token>  → 200 with the key authorization, when the token
//                                                   was installed for the request's Host; else 404
//   anything else                                 → 503: the backend of routes with no upstream
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ACME_CHALLENGE_PREFIX } from './traefik-names';

const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export interface ChallengeAnswers {
  answer(token: string, hostname: string): string | undefined;
}

export interface ChallengeResponder {
  readonly port: number;
  close(): Promise<void>;
}

export function handleAgentRequest(answers: ChallengeAnswers, req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>, res: ServerResponse): void {
  const pathname = (req.url ?? '').split('?')[0]!;
  if (!pathname.startsWith(ACME_CHALLENGE_PREFIX)) {
    return send(res, 503, 'no healthy upstream for this app\n');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
  const token = pathname.slice(ACME_CHALLENGE_PREFIX.length);
  // Host without its port, as the CA asked for it (Traefik passes the Host header through).
  const hostname = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  const keyAuthorization = TOKEN.test(token) ? answers.answer(token, hostname) : undefined;
  if (keyAuthorization === undefined) return send(res, 404, 'unknown challenge\n');
  send(res, 200, req.method === 'HEAD' ? '' : keyAuthorization);
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(body);
}

/** Listens on 127.0.0.1:`port` (0: any free port, for tests). */
export function startChallengeResponder(deps: { answers: ChallengeAnswers; port: number; logger: Logger }): Promise<ChallengeResponder> {
  const server = createServer((req, res) => handleAgentRequest(deps.answers, req, res));
  // Bounded: only Traefik talks to it, and a slow client must not hold sockets open.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, '127.0.0.1', () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      deps.logger.info({ port }, 'challenge responder listening on 127.0.0.1');
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
