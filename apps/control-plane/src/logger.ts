import pino, { type Logger } from 'pino';

/** Structured JSON logs on stdout; secrets are redacted wherever they might be passed by mistake. */
export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'refreshToken', '*.refreshToken', 'credential', '*.credential', 'authorization', '*.authorization'],
      censor: '[redacted]',
    },
  });
}
