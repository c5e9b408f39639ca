// Structured logs (pino). No personal data: no IP addresses, no e-mail addresses, no query strings
// (they can carry tokens), no cookies or authorization headers.
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config.ts';

// A PostgreSQL error carries the offending values in `detail` ("Key (email)=(x@y.fr) already
// exists.") and sometimes the query's parameters: a logged error must not copy them.
const REDACTED = ['email', '*.email', 'password', '*.password', 'token', '*.token', 'err.detail', 'err.parameters', 'err.where'];

/** The instance's logger; `destination` (default: standard output) is for tests. */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    redact: { paths: REDACTED, censor: '[hidden]' },
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url.split('?')[0],
      }),
      res: (res: { statusCode: number }) => ({ status: res.statusCode }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
