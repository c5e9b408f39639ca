// Structured logs (pino). No personal data: no IP addresses, no e-mail addresses, no query strings
// (they can carry tokens), no cookies or authorization headers.
import pino, { type Logger } from 'pino';
import type { Config } from '../config.ts';

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    redact: { paths: ['email', '*.email', 'password', '*.password', 'token', '*.token'], censor: '[hidden]' },
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url.split('?')[0],
      }),
      res: (res: { statusCode: number }) => ({ status: res.statusCode }),
    },
  });
}
