// Server child of api-ceiling: `http-server.ts bare|express`. `bare`: node:http answering a small
// constant JSON; `express`: an Express 5 app with one GET route answering the same JSON. Listens on
// an ephemeral loopback port, sends `{type: 'listening', port}`, then answers `sample` with its
// own CPU and the requests answered.
import http from 'node:http';
import type net from 'node:net';
import express from 'express';
import { answerCpuSamples } from './cpu-sample';

const payload = { id: 'app_123', name: 'hello', status: 'running', replicas: 1, port: 8080 };

const mode = process.argv[2];
let requests = 0;

function start(handler: http.RequestListener): void {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ type: 'listening', port: (server.address() as net.AddressInfo).port }));
}

if (mode === 'bare') {
  const body = JSON.stringify(payload);
  const length = String(Buffer.byteLength(body));
  start((_req, res) => {
    requests += 1;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': length });
    res.end(body);
  });
} else if (mode === 'express') {
  const app = express();
  app.disable('x-powered-by');
  app.get('/api/v1/apps/:id', (_req, res) => {
    requests += 1;
    res.json(payload);
  });
  start(app);
} else {
  throw new Error(`http-server: mode must be bare or express, got ${mode}`);
}
answerCpuSamples(() => requests);
process.on('disconnect', () => process.exit(0));
