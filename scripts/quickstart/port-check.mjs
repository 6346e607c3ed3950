// A taken port is the most common first-run failure; it gets one clear sentence, not a stack trace.
import net from 'node:net';

/** Resolves null when `port` can be bound on `host`, else the reason (EADDRINUSE, EACCES…). @param {string} host @param {number} port */
export function portProblem(host, port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (e) => resolve(/** @type {NodeJS.ErrnoException} */ (e).code ?? e.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}
