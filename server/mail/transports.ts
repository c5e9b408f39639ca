// The two MailTransport implementations: a pooled SMTP client (nodemailer) when SMTP_URL is set,
// and an outbox of .eml files under DATA_DIR/outbox otherwise, so that a first run needs no mail
// server (the administrator can open the files with any mail program).
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { assertSafeHeaders, hasControl, headerText } from './mail.headers.ts';
import type { DkimSettings } from './mail.settings.ts';
import { type MailMessage, MailSendError, type MailTransport, type SendResult } from './mail.types.ts';
import { isSmtpReady, unstuffSmtp } from './mime.ts';
import { SmtpBulkPool } from './smtp-bulk.ts';

export interface TransportOptions {
  smtpUrl: string | undefined;
  outboxDir: string;
  concurrency: number;
  dkim: DkimSettings | null;
  /** Seconds before an unresponsive server counts as a temporary failure. */
  timeoutSeconds?: number;
}

/** The nodemailer form of a message: headers checked, subject cleaned, UTF-8 both parts. */
export function toNodemailer(message: MailMessage): SendMailOptions {
  if (message.prebuilt) {
    const { raw } = message.prebuilt;
    // Bytes stuffed for the wire (bulk) are turned back: nodemailer stuffs them itself.
    return {
      envelope: { from: message.prebuilt.envelopeFrom, to: [message.prebuilt.envelopeTo] },
      raw: typeof raw !== 'string' && isSmtpReady(raw) ? unstuffSmtp(raw) : raw,
    };
  }
  assertSafeHeaders(message.headers ?? {});
  // ASCII values go out as written (List-Id and List-Unsubscribe must keep their exact syntax);
  // anything else is MIME-encoded by nodemailer.
  const headers: Record<string, string | { prepared: true; value: string }> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    headers[name] = /^[\x20-\x7e]*$/.test(value) ? { prepared: true, value } : value;
  }
  for (const value of [message.from, message.to, message.replyTo ?? '', message.messageId]) {
    if (hasControl(value)) throw new MailSendError('unsafe address header', true);
  }
  return {
    from: message.from,
    to: message.to,
    ...(message.replyTo ? { replyTo: message.replyTo } : {}),
    subject: headerText(message.subject, 250),
    messageId: `<${message.messageId}>`,
    date: message.date ?? new Date(),
    headers,
    text: message.text,
    html: message.html,
    textEncoding: 'quoted-printable',
    // No attachments, ever: a newsletter is HTML and text.
    attachments: [],
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

export function classifySmtpError(error: unknown): MailSendError {
  const e = error as { responseCode?: number; code?: string; message?: string; response?: string };
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const text = (e.response ?? e.message ?? String(error)).slice(0, 300);
  if (code !== undefined && code >= 500 && code < 600) return new MailSendError(`refused: ${text}`, true, code);
  return new MailSendError(`temporary failure: ${text}`, false, code);
}

export function createSmtpTransport(options: TransportOptions & { smtpUrl: string }): MailTransport {
  const url = new URL(options.smtpUrl);
  const timeout = (options.timeoutSeconds ?? 60) * 1000;
  const transporter = nodemailer.createTransport({
    pool: true,
    host: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
    secure: url.protocol === 'smtps:',
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    maxConnections: options.concurrency,
    maxMessages: 1000,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    ...(options.dkim ? { dkim: options.dkim } : {}),
  });
  // Bulk messages whose bytes are final go through nodemailer's SMTP connections directly
  // (smtp-bulk.ts), skipping its per-byte data stream; with DKIM they take the transport above,
  // which signs them (slower: the signature reads every byte, then the data stream does).
  const bulk = options.dkim
    ? null
    : new SmtpBulkPool({
        host: url.hostname,
        port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
        secure: url.protocol === 'smtps:',
        ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
        maxConnections: options.concurrency,
        maxMessages: 1000,
        timeoutMs: timeout,
      });
  return {
    kind: 'smtp',
    async send(message: MailMessage): Promise<SendResult> {
      const pre = message.prebuilt;
      try {
        if (bulk && pre && typeof pre.raw !== 'string' && isSmtpReady(pre.raw)) {
          const info = await bulk.send({ from: pre.envelopeFrom, to: [pre.envelopeTo] }, pre.raw);
          if (info.rejected.length > 0) throw new MailSendError(`refused: ${info.response}`, true, 550);
          return { response: info.response };
        }
        const info = await transporter.sendMail(toNodemailer(message));
        if (info.rejected && info.rejected.length > 0) throw new MailSendError(`refused: ${info.response}`, true, 550);
        return { response: String(info.response ?? '') };
      } catch (error) {
        if (error instanceof MailSendError) throw error;
        throw classifySmtpError(error);
      }
    },
    async close(): Promise<void> {
      transporter.close();
      await bulk?.close();
    },
  };
}

export function createOutboxTransport(options: TransportOptions): MailTransport {
  const builder = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'windows',
    ...(options.dkim ? { dkim: options.dkim } : {}),
  });
  let ready: Promise<unknown> | undefined;
  return {
    kind: 'outbox',
    async send(message: MailMessage): Promise<SendResult> {
      ready ??= fs.mkdir(options.outboxDir, { recursive: true });
      await ready;
      const info = await builder.sendMail(toNodemailer(message));
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${crypto.randomBytes(6).toString('hex')}.eml`;
      const final = path.join(options.outboxDir, name);
      // Written under a temporary name then renamed: a reader never sees half a message.
      const temp = `${final}.tmp`;
      await fs.writeFile(temp, info.message as Buffer);
      await fs.rename(temp, final);
      return { response: `written ${name}` };
    },
    async close(): Promise<void> {},
  };
}

export function createMailTransport(options: TransportOptions): MailTransport {
  return options.smtpUrl ? createSmtpTransport({ ...options, smtpUrl: options.smtpUrl }) : createOutboxTransport(options);
}
