import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import type { Request, Response } from 'express';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { accessLog } from './access-log';

function logger(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level }, sink), lines };
}

function request(handler: ReturnType<typeof accessLog>) {
  const req = { requestId: 'r-1', method: 'GET', originalUrl: '/api/v1/apps?limit=20&cursor=secretish' } as unknown as Request;
  const res = Object.assign(new EventEmitter(), { statusCode: 200 }) as unknown as Response;
  let called = false;
  handler(req, res, () => {
    called = true;
  });
  expect(called).toBe(true);
  (res as unknown as EventEmitter).emit('finish');
}

describe('accessLog', () => {
  it('writes one line per request at info, without the query string', async () => {
    const { log, lines } = logger('info');
    request(accessLog(log));
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'request', reqId: 'r-1', method: 'GET', path: '/api/v1/apps', status: 200 });
    expect(typeof lines[0]!.ms).toBe('number');
  });

  it('writes nothing above info, and follows a level changed at run time', async () => {
    const { log, lines } = logger('warn');
    const handler = accessLog(log);
    request(handler);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(0);
    log.level = 'info';
    request(handler);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
  });
});
