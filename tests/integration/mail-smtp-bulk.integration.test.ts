// The bulk SMTP pool (nodemailer's SMTP connections, its data stream told to pass ready bytes
// through) against a real SMTP server: the server receives the same message as through
// nodemailer's pooled transport; refusals, dropped connections, connection count and reuse.
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { type MailMessage, MailSendError } from '../../server/mail/mail.types.ts';
import { composeRawBuffer, qpFragment } from '../../server/mail/mime.ts';
import { FAST_PATH, SmtpBulkPool } from '../../server/mail/smtp-bulk.ts';
import { createSmtpTransport } from '../../server/mail/transports.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp.ts';

const parts = {
  from: '"Réseau AMAP" <no-reply@amap-idf.org>',
  to: 'elodie@example.org',
  subject: 'Lettre',
  messageId: 'abc.def@amap-idf.org',
  date: new Date('2026-12-01T08:00:00Z'),
  headers: { Precedence: 'bulk' },
  htmlQp: ['.a{color:red}\n.\n<p>Bonjour</p>\n', '.b{}', '<p>x</p>'.repeat(2000)].map(qpFragment),
  textQp: ['.début\n.\n', 'fin'].map(qpFragment),
};

function message(to: string, smtpReady: boolean): MailMessage {
  const built = composeRawBuffer({ ...parts, to }, undefined, { smtpReady });
  return { from: parts.from, to, subject: parts.subject, html: '', text: '', messageId: parts.messageId, prebuilt: built };
}

let sink: SmtpSink | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  await sink?.close();
  sink = undefined;
});

describe('bulk SMTP pool', () => {
  it('uses the fast path with this nodemailer, and the server gets the same message as through the stock transport', async () => {
    expect(FAST_PATH).toBe(true);
    sink = await startSmtpSink();
    const transport = createSmtpTransport({ smtpUrl: sink.url, outboxDir: '/nonexistent', concurrency: 2, dkim: null });
    closers.push(() => transport.close());
    // Ready bytes: the bulk pool. The same message not ready: nodemailer's pooled transport.
    await transport.send(message('ready@example.org', true));
    await transport.send(message('stock@example.org', false));
    await sink.waitFor(2);
    const got = (to: string) =>
      sink!.messages
        .find((m) => m.to[0] === to)!
        .raw.toString('latin1')
        .replace(/----=_amap_[0-9a-f]+_[0-9a-z]+/g, 'B')
        .replace(to, 'TO');
    expect(got('ready@example.org')).toContain('\r\n.a{color:red}\r\n.\r\n');
    expect(got('ready@example.org')).toBe(got('stock@example.org'));
  });

  it('signs a ready message with DKIM when a key is configured (through the stock transport, dots turned back)', async () => {
    sink = await startSmtpSink();
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
    const dkim = {
      domainName: 'amap-idf.org',
      keySelector: 'amap',
      privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    };
    const signed = createSmtpTransport({ smtpUrl: sink.url, outboxDir: '/nonexistent', concurrency: 1, dkim });
    const plain = createSmtpTransport({ smtpUrl: sink.url, outboxDir: '/nonexistent', concurrency: 1, dkim: null });
    closers.push(
      () => signed.close(),
      () => plain.close(),
    );
    await signed.send(message('signed@example.org', true));
    await plain.send(message('plain@example.org', true));
    await sink.waitFor(2);
    const got = (to: string) => sink!.messages.find((m) => m.to[0] === to)!.raw.toString('latin1');
    expect(got('signed@example.org')).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=amap-idf\.org;/);
    const withoutSignature = got('signed@example.org').replace(/^DKIM-Signature:.*\r\n(?:[ \t].*\r\n)*/, '');
    const strip = (raw: string, to: string) => raw.replace(/----=_amap_[0-9a-f]+_[0-9a-z]+/g, 'B').replace(to, 'TO');
    expect(strip(withoutSignature, 'signed@example.org')).toBe(strip(got('plain@example.org'), 'plain@example.org'));
  });

  it('reports a refusal as permanent and a dropped connection as temporary, and goes on sending', async () => {
    sink = await startSmtpSink({
      refuse: (to) => to.startsWith('refused'),
      disconnect: (to) => to.startsWith('dropped'),
    });
    const transport = createSmtpTransport({ smtpUrl: sink.url, outboxDir: '/nonexistent', concurrency: 1, dkim: null });
    closers.push(() => transport.close());
    await transport.send(message('a@example.org', true));
    const refused = await transport.send(message('refused@example.org', true)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MailSendError);
    expect((refused as MailSendError).permanent).toBe(true);
    await transport.send(message('b@example.org', true));
    const dropped = await transport.send(message('dropped@example.org', true)).catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(MailSendError);
    expect((dropped as MailSendError).permanent).toBe(false);
    await transport.send(message('c@example.org', true));
    await sink.waitFor(3);
    expect(sink.messages.map((m) => m.to[0])).toEqual(['a@example.org', 'b@example.org', 'c@example.org']);
  });

  it('sends again over a new connection a message whose reused connection was closed before its data', async () => {
    let mails = 0;
    let received = 0;
    const server: SMTPServer = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onMailFrom(_address, session, callback) {
        // The second message on the first connection: the server drops it, as one that closes
        // connections idle for too long would.
        if (++mails === 2) {
          for (const c of (server as unknown as { connections: Set<any> }).connections) {
            if (c.session?.id === session.id) c._socket?.destroy();
          }
          return;
        }
        callback();
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => {
          received++;
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const pool = new SmtpBulkPool({
      host: '127.0.0.1',
      port: (server.server.address() as AddressInfo).port,
      secure: false,
      maxConnections: 1,
      maxMessages: 100,
      timeoutMs: 10_000,
    });
    closers.unshift(() => pool.close());
    const raw = message('x@example.org', true).prebuilt!.raw as Buffer;
    await pool.send({ from: 'a@amap-idf.org', to: ['one@example.org'] }, raw);
    await pool.send({ from: 'a@amap-idf.org', to: ['two@example.org'] }, raw);
    expect(received).toBe(2);
  });

  it('keeps to its connection count and opens a new connection after maxMessages', async () => {
    // Messages being received at once (a closing connection may still be open while its
    // replacement connects; what the pool bounds is the messages in flight).
    let inFlight = 0;
    let most = 0;
    let received = 0;
    // Messages carried by each connection (smtp-server gives each connection a session id).
    const perConnection = new Map<string, number>();
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onMailFrom(_address, session, callback) {
        most = Math.max(most, ++inFlight);
        perConnection.set(session.id, (perConnection.get(session.id) ?? 0) + 1);
        callback();
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => {
          received++;
          inFlight--;
          // A little wait, so that the lanes overlap.
          setTimeout(callback, 5);
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const pool = new SmtpBulkPool({
      host: '127.0.0.1',
      port: (server.server.address() as AddressInfo).port,
      secure: false,
      maxConnections: 2,
      maxMessages: 3,
      timeoutMs: 10_000,
    });
    closers.unshift(() => pool.close());
    const raw = message('x@example.org', true).prebuilt!.raw as Buffer;
    await Promise.all(Array.from({ length: 12 }, (_, i) => pool.send({ from: 'a@amap-idf.org', to: [`r${i}@example.org`] }, raw)));
    expect(received).toBe(12);
    expect(most).toBeLessThanOrEqual(2);
    // 12 messages, at most 3 per connection: 4 connections, or 5 when the last three messages
    // are spread over the two connections open at the end (which lane frees first is timing).
    const counts = [...perConnection.values()];
    expect(Math.max(...counts)).toBe(3);
    expect(counts.length).toBeGreaterThanOrEqual(4);
    expect(counts.length).toBeLessThanOrEqual(5);
  });
});
