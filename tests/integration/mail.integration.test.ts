import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { formatAddress, headerText, isValidEmail } from '../../server/mail/mail.headers.ts';
import { loadSenderSettings, saveSenderSettings } from '../../server/mail/mail.settings.ts';
import { type MailMessage, MailSendError } from '../../server/mail/mail.types.ts';
import { createOutboxTransport, createSmtpTransport } from '../../server/mail/transports.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { tempDir } from '../helpers/instance.ts';
import { parseMail, type SmtpSink, startSmtpSink } from '../helpers/smtp.ts';

function message(to: string, overrides: Partial<MailMessage> = {}): MailMessage {
  return {
    from: formatAddress('no-reply@example.org', 'Réseau AMAP'),
    to,
    subject: 'Lettre d’information — décembre',
    html: '<p>Bonjour <strong>à tous</strong> 🌱</p>',
    text: 'Bonjour à tous 🌱',
    messageId: `${crypto.randomUUID()}@example.org`,
    headers: {
      'List-Id': '"Lettre" <lettre.example.org>',
      'List-Unsubscribe': '<https://example.org/newsletter/unsubscribe?token=abc>, <mailto:no-reply@example.org?subject=unsubscribe>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
    ...overrides,
  };
}

describe('mail transport', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink.close();
  });

  it('sends a multipart/alternative UTF-8 message with list headers over pooled SMTP', async () => {
    const transport = createSmtpTransport({ smtpUrl: sink.url, outboxDir: '', concurrency: 2, dkim: null });
    try {
      await transport.send(message('alice@example.net'));
    } finally {
      await transport.close();
    }
    const mail = await parseMail(sink.messages.at(-1)!);
    expect(mail.subject).toBe('Lettre d’information — décembre');
    expect(mail.from?.value[0]).toEqual({ address: 'no-reply@example.org', name: 'Réseau AMAP' });
    expect(mail.text?.trim()).toBe('Bonjour à tous 🌱');
    expect(mail.html).toContain('<strong>à tous</strong>');
    const raw = sink.messages.at(-1)!.raw.toString('utf8');
    expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    expect(raw).toMatch(/^List-Id: "Lettre" <lettre\.example\.org>\r$/im);
    expect(raw).toMatch(/^List-Unsubscribe: <https:\/\/example\.org\/newsletter\/unsubscribe\?token=abc>,\s+<mailto:/m);
    expect(String(mail.headers.get('content-type') && (mail.headers.get('content-type') as any).value)).toBe('multipart/alternative');
    expect(mail.messageId).toMatch(/@example\.org>$/);
    expect(mail.date).toBeInstanceOf(Date);
    expect(mail.attachments).toHaveLength(0);
  });

  it('cannot be made to add headers through a subject or a name', async () => {
    const transport = createSmtpTransport({ smtpUrl: sink.url, outboxDir: '', concurrency: 1, dkim: null });
    try {
      await transport.send(
        message('bob@example.net', {
          subject: 'Hello\r\nBcc: victim@example.com\r\nX-Evil: 1',
          from: formatAddress('no-reply@example.org', 'Evil\r\nBcc: victim@example.com'),
        }),
      );
      await expect(transport.send(message('bob@example.net', { headers: { 'X-A': 'b\r\nBcc: c@d.org' } }))).rejects.toThrow(/unsafe/);
      await expect(transport.send(message('bob@example.net\r\nBcc: c@d.org'))).rejects.toThrow();
    } finally {
      await transport.close();
    }
    const raw = sink.messages.at(-1)!.raw.toString('utf8');
    expect(raw).not.toMatch(/^Bcc:/im);
    expect(raw).not.toMatch(/^X-Evil:/im);
    expect(sink.messages.at(-1)!.to).toEqual(['bob@example.net']);
    expect(() => formatAddress('a@b.org>\r\nBcc: x@y.org')).toThrow();
    expect(headerText('a\r\nb\u0000c')).toBe('a b c');
    expect(isValidEmail('"quoted"@example.org')).toBe(false);
    expect(isValidEmail('jean.dupont+amap@exemple.fr')).toBe(true);
  });

  it('reports a 5xx as permanent, a 4xx and a dropped connection as temporary', async () => {
    const bad = await startSmtpSink({
      refuse: (to) => to.startsWith('gone'),
      deferOnce: (to) => to.startsWith('later'),
      disconnect: (to) => to.startsWith('drop'),
    });
    const transport = createSmtpTransport({ smtpUrl: bad.url, outboxDir: '', concurrency: 1, dkim: null, timeoutSeconds: 5 });
    try {
      const perm = await transport.send(message('gone@example.net')).catch((e) => e);
      expect(perm).toBeInstanceOf(MailSendError);
      expect(perm.permanent).toBe(true);
      expect(perm.responseCode).toBe(550);
      const temp = await transport.send(message('later@example.net')).catch((e) => e);
      expect(temp).toBeInstanceOf(MailSendError);
      expect(temp.permanent).toBe(false);
      const dropped = await transport.send(message('drop@example.net')).catch((e) => e);
      expect(dropped).toBeInstanceOf(MailSendError);
      expect(dropped.permanent).toBe(false);
      // The pool recovers after a dropped connection.
      await transport.send(message('fine@example.net'));
      expect(bad.count).toBe(1);
    } finally {
      await transport.close();
      await bad.close();
    }
    const refused = createSmtpTransport({ smtpUrl: 'smtp://127.0.0.1:1', outboxDir: '', concurrency: 1, dkim: null, timeoutSeconds: 2 });
    const err = await refused.send(message('x@example.net')).catch((e) => e);
    expect(err).toBeInstanceOf(MailSendError);
    expect(err.permanent).toBe(false);
    await refused.close();
  });

  it('signs with DKIM when a key is configured', async () => {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
    const transport = createSmtpTransport({
      smtpUrl: sink.url,
      outboxDir: '',
      concurrency: 1,
      dkim: { domainName: 'example.org', keySelector: 'amap', privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() },
    });
    try {
      await transport.send(message('dkim@example.net'));
    } finally {
      await transport.close();
    }
    const raw = sink.messages.at(-1)!.raw.toString('utf8');
    expect(raw).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.org;/m);
    expect(raw).toMatch(/s=amap;/);
  });

  it('writes .eml files atomically to the outbox when there is no SMTP server', async () => {
    const dir = path.join(tempDir(), 'outbox');
    const transport = createOutboxTransport({ smtpUrl: undefined, outboxDir: dir, concurrency: 1, dkim: null });
    await Promise.all([transport.send(message('a@example.net')), transport.send(message('b@example.net'))]);
    const files = fs.readdirSync(dir);
    expect(files.filter((f) => f.endsWith('.eml'))).toHaveLength(2);
    expect(files.filter((f) => f.endsWith('.tmp'))).toHaveLength(0);
    const mail = await parseMail({ from: '', to: [], raw: fs.readFileSync(path.join(dir, files[0]!)) });
    expect(mail.subject).toBe('Lettre d’information — décembre');
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });
});

describe('sender settings', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it('defaults to the instance name at no-reply@ the public host, and keeps valid changes only', async () => {
    const config = loadConfig({ INSTANCE_NAME: 'AMAP AURA', PUBLIC_URL: 'https://amap-aura.org' });
    const defaults = await loadSenderSettings(db.db, config);
    expect(defaults).toMatchObject({ fromName: 'AMAP AURA', fromAddress: 'no-reply@amap-aura.org', replyTo: null, dkim: null });
    const saved = await saveSenderSettings(db.db, config, {
      replyTo: 'contact@amap-aura.org',
      concurrency: 8,
      fromAddress: 'bad\r\naddress',
    });
    expect(saved).toMatchObject({ replyTo: 'contact@amap-aura.org', concurrency: 8, fromAddress: 'no-reply@amap-aura.org' });
    expect(await loadSenderSettings(db.db, config)).toEqual(saved);
  });
});

describe('an instance without SMTP_URL', () => {
  it('writes its emails to DATA_DIR/outbox, so a first run needs no mail server', async () => {
    const { startTestInstance } = await import('../helpers/instance.ts');
    const instance = await startTestInstance();
    try {
      const res = await fetch(`${instance.url}/newsletter`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'email=premiere%40example.org&consent=yes&frequency=weekly',
      });
      expect(res.status).toBe(200);
      const dir = path.join(instance.config.dataDir, 'outbox');
      const until = Date.now() + 20_000;
      while (!fs.existsSync(dir) || fs.readdirSync(dir).filter((f) => f.endsWith('.eml')).length === 0) {
        if (Date.now() > until) throw new Error('no .eml in the outbox');
        await new Promise((r) => setTimeout(r, 50));
      }
      const file = fs.readdirSync(dir).find((f) => f.endsWith('.eml'))!;
      const mail = await parseMail({ from: '', to: [], raw: fs.readFileSync(path.join(dir, file)) });
      expect(mail.subject).toContain('Confirmez votre abonnement');
      expect(mail.text).toMatch(/\/newsletter\/confirm\?token=/);
    } finally {
      await instance.destroy();
    }
  });
});
