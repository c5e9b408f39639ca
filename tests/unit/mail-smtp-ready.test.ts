// composeRawBuffer with `smtpReady` writes what nodemailer's data stream would put on the wire
// (line ends CRLF, a dot starting a line doubled), so that the bulk pool can skip that stream.
import { createRequire } from 'node:module';
import type { Transform } from 'node:stream';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { composeRawBuffer, isSmtpReady, qpFragment, unstuffSmtp } from '../../server/mail/mime.ts';

// nodemailer's own data stream, the reference for the bytes after DATA.
const DataStream = createRequire(import.meta.url)('nodemailer/lib/smtp-connection/data-stream') as new () => Transform;

function throughDataStream(raw: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const ds = new DataStream();
    const out: Buffer[] = [];
    ds.on('data', (c: Buffer) => out.push(c));
    ds.on('end', () => resolve(Buffer.concat(out)));
    ds.on('error', reject);
    ds.end(raw);
  });
}

const base = {
  from: '"Réseau AMAP" <no-reply@amap-idf.org>',
  to: '"Élodie" <elodie@example.org>',
  subject: 'Lettre',
  messageId: 'abc.def@amap-idf.org',
  date: new Date('2026-12-01T08:00:00Z'),
  headers: { Precedence: 'bulk' },
};
const strip = (b: Buffer) => b.toString('latin1').replace(/----=_amap_[0-9a-f]+_[0-9a-z]+/g, 'BOUNDARY');

describe('SMTP-ready raw messages', () => {
  // Dots at the start of lines inside a piece, at the start of a piece (each piece starts a line:
  // a fragment ends with a soft line break), a line that is a single dot, and lone CR and LF.
  const html = ['.premier{color:red}\n.second{}\n', '.', '<p>a</p>\n.\n<p>b</p>', 'x'.repeat(3000), '\n..deux points'];
  const text = ['.début\n', 'ligne\rseule\n.', 'fin .\n'];
  const parts = { ...base, htmlQp: html.map(qpFragment), textQp: text.map(qpFragment) };

  it('are the bytes nodemailer would send after DATA, and turn back into the message', async () => {
    const plain = composeRawBuffer(parts);
    const ready = composeRawBuffer(parts, undefined, { smtpReady: true });
    expect(isSmtpReady(ready.raw)).toBe(true);
    expect(isSmtpReady(plain.raw)).toBe(false);
    // Some dots were stuffed, else this test would prove nothing.
    expect(ready.raw.length).toBeGreaterThan(plain.raw.length + 5);
    // The data stream ends the data with ".\r\n" after the message's last CRLF.
    const wire = await throughDataStream(plain.raw);
    expect(strip(Buffer.concat([ready.raw, Buffer.from('.\r\n')]))).toBe(strip(wire));
    // Turned back, it is the message with its lone CR made CRLF, as the data stream also does.
    expect(strip(unstuffSmtp(ready.raw))).toBe(strip(plain.raw).replace(/\r(?!\n)/g, '\r\n'));
  });

  it('use the same conversion again for the large pieces of the next message', () => {
    const a = composeRawBuffer(parts, undefined, { smtpReady: true });
    const b = composeRawBuffer({ ...parts, to: 'autre@example.org' }, undefined, { smtpReady: true });
    expect(strip(a.raw).replace('=?UTF-8?Q?=C3=89lodie?= <elodie@example.org>', 'X')).toBe(strip(b.raw).replace('autre@example.org', 'X'));
  });

  it('unstuff only what stuffing added', () => {
    expect(unstuffSmtp(Buffer.from('a\r\n..b\r\n...\r\nc')).toString()).toBe('a\r\n.b\r\n..\r\nc');
    expect(unstuffSmtp(Buffer.from('..a\r\nb')).toString()).toBe('.a\r\nb');
    const none = Buffer.from('a\r\nb');
    expect(unstuffSmtp(none)).toBe(none);
  });

  it('encode printable ASCII (links) as valid quoted-printable, lines of at most 76 characters, never cutting =XX', async () => {
    for (let n = 70; n < 240; n += 1) {
      const url = `https://amap.example.org/newsletter/unsubscribe?token=${'a='.repeat(n).slice(0, n)} fin `;
      const qp = qpFragment(url);
      for (const line of qp.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
      const raw = composeRawBuffer({ ...base, textQp: [qp], htmlQp: [qpFragment('<p>x</p>')] }).raw;
      expect((await simpleParser(raw)).text).toBe(url);
    }
  });
});
