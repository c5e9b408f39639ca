// A real SMTP server on 127.0.0.1 (smtp-server) that keeps what it receives, for tests and the
// benchmark. It can misbehave on purpose: refuse some recipients (5xx), answer 4xx, slow down,
// or drop the connection in the middle of a message.
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface CapturedMail {
  from: string;
  to: string[];
  raw: Buffer;
}

export interface SinkBehaviour {
  /** Recipients answered 550 (permanently refused). */
  refuse?: (to: string) => boolean;
  /** Recipients answered 451 (try again later), as long as this returns true. */
  deferOnce?: (to: string) => boolean;
  /** Milliseconds to wait before accepting each message. */
  delayMs?: number;
  /** Called for each message; returning true drops the connection instead of accepting it. */
  disconnect?: (to: string) => boolean;
  /** Keep only the count, not the bytes (benchmarks). */
  countOnly?: boolean;
}

export interface SmtpSink {
  port: number;
  url: string;
  messages: CapturedMail[];
  count: number;
  behaviour: SinkBehaviour;
  /** Resolves when at least `n` messages arrived (polls; rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSmtpSink(behaviour: SinkBehaviour = {}): Promise<SmtpSink> {
  const sink: SmtpSink = {
    port: 0,
    url: '',
    messages: [],
    count: 0,
    behaviour,
    waitFor: async (n, timeoutMs = 30_000) => {
      const until = Date.now() + timeoutMs;
      while (sink.count < n) {
        if (Date.now() > until) throw new Error(`SMTP sink: ${sink.count} messages, expected ${n}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: async () => {},
  };
  const options: SMTPServerOptions = {
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 10 * 1024 * 1024,
    maxClients: 200,
    // Do not wait for idle pooled clients when a test closes the sink.
    closeTimeout: 50,
    onRcptTo(address, _session, callback) {
      if (sink.behaviour.refuse?.(address.address)) {
        const err = new Error('mailbox unavailable') as Error & { responseCode: number };
        err.responseCode = 550;
        return callback(err);
      }
      if (sink.behaviour.deferOnce?.(address.address)) {
        const err = new Error('try again later') as Error & { responseCode: number };
        err.responseCode = 451;
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => {
        if (!sink.behaviour.countOnly) chunks.push(c);
      });
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        if (sink.behaviour.disconnect?.(to[0] ?? '')) {
          // Drop the connection without answering: the client cannot know whether it arrived.
          for (const c of (server as unknown as { connections: Set<any> }).connections) {
            if (c.session?.id === session.id) c._socket?.destroy();
          }
          return;
        }
        const accept = () => {
          sink.count++;
          if (!sink.behaviour.countOnly) {
            const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
            sink.messages.push({ from, to, raw: Buffer.concat(chunks) });
          }
          callback();
        };
        if (sink.behaviour.delayMs) setTimeout(accept, sink.behaviour.delayMs);
        else accept();
      });
    },
  };
  const server = new SMTPServer(options);
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  sink.port = (server.server.address() as AddressInfo).port;
  sink.url = `smtp://127.0.0.1:${sink.port}`;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}

export function parseMail(mail: CapturedMail): Promise<ParsedMail> {
  return simpleParser(mail.raw, { skipImageLinks: true });
}

/** The messages sent to `address`. */
export function messagesTo(sink: SmtpSink, address: string): CapturedMail[] {
  return sink.messages.filter((m) => m.to.includes(address));
}
