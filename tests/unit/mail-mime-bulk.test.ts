// BulkMessage (one issue written for many recipients) writes the bytes composeRawBuffer writes
// with `smtpReady`, for every recipient, whatever their values.
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { composeRawBuffer, isSmtpReady, qpFragment, type RawScratch, unstuffSmtp } from '../../server/mail/mime.ts';
import { type BodyTemplate, type BulkCommon, BulkMessage, type BulkRecipient } from '../../server/mail/mime-bulk.ts';

const body = (parts: string[], slots: string[]): BodyTemplate => ({ parts: parts.map(qpFragment), slots });

const common: BulkCommon = {
  from: '"Réseau AMAP Île-de-France" <no-reply@amap-idf.org>',
  replyTo: 'contact@amap-idf.org',
  subject: 'Lettre de décembre — les nouvelles',
  headers: {
    'List-Id': '<idf.newsletter.amap-idf.org>',
    'List-Unsubscribe': null,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    Precedence: 'bulk',
  },
  // Parts that start lines with dots, inside and at their start, and a slot right after another.
  textQp: body(['', ',\n\n.Ligne qui commence par un point\n', '\n.\n', 'fin'], ['GREETING', 'URL', 'URL']),
  htmlQp: body(['.<p>', ',</p>', '<td>é</td>'.repeat(300), '<a href="', '">lien</a>'], ['GREETING', 'GREETING', 'URL', 'URL']),
};

function recipient(i: number, name: string, url: string): BulkRecipient {
  const values = { GREETING: qpFragment(name ? `Bonjour ${name}` : ''), URL: qpFragment(url) };
  return {
    to: name ? `"${name}" <membre${i}@example.org>` : `membre${i}@example.org`,
    messageId: `issue.${i}@amap-idf.org`,
    date: new Date(Date.UTC(2026, 11, 1, 8, 0, i)),
    headers: { 'List-Unsubscribe': `<${url}>, <mailto:contact@amap-idf.org?subject=unsubscribe>` },
    textValues: values,
    htmlValues: values,
  };
}

/** The same message through composeRawBuffer: the pieces interleaved, the headers merged in order. */
function reference(r: BulkRecipient) {
  const interleave = (b: BodyTemplate, values: Record<string, string>) =>
    b.parts.flatMap((p, i) => (b.slots[i] === undefined ? [p] : [p, values[b.slots[i]!]!]));
  const headers = Object.fromEntries(Object.entries(common.headers).map(([k, v]) => [k, v ?? r.headers[k]!]));
  return composeRawBuffer(
    {
      from: common.from,
      replyTo: common.replyTo,
      to: r.to,
      subject: common.subject,
      messageId: r.messageId,
      date: r.date,
      headers,
      textQp: interleave(common.textQp, r.textValues),
      htmlQp: interleave(common.htmlQp, r.htmlValues),
    },
    undefined,
    { smtpReady: true },
  );
}

const strip = (b: Buffer) => b.toString('latin1').replace(/----=_amap_[0-9a-f]+_[0-9a-z]+/g, 'BOUNDARY');

describe('one message written for many recipients', () => {
  const message = new BulkMessage(common);
  const recipients = [
    recipient(1, 'Élodie Dupont', 'https://amap-idf.org/newsletter/unsubscribe?token=abc.def'),
    recipient(2, '', `https://amap-idf.org/newsletter/unsubscribe?token=${'x'.repeat(70)}.${'y'.repeat(40)}`),
    // A value whose quoted-printable lines start with a dot.
    recipient(3, 'Jean', `https://amap-idf.org/${'a'.repeat(74)}.org/${'b'.repeat(73)}.x`),
  ];

  it('writes the bytes of composeRawBuffer for each recipient, in one reused buffer', () => {
    const scratch: RawScratch = {};
    for (const r of recipients) {
      const built = message.write(r, scratch);
      const expected = reference(r);
      expect(strip(built.raw)).toBe(strip(expected.raw));
      expect(built.envelopeTo).toBe(expected.envelopeTo);
      expect(built.envelopeFrom).toBe('no-reply@amap-idf.org');
      expect(isSmtpReady(built.raw)).toBe(true);
    }
    expect(strip(message.write(recipients[2]!, scratch).raw)).toContain('\r\n..');
  });

  it('reads back as the intended message once unstuffed', async () => {
    const mail = await simpleParser(unstuffSmtp(message.write(recipients[0]!).raw));
    expect(mail.subject).toBe(common.subject);
    expect(mail.to).toMatchObject({ value: [{ address: 'membre1@example.org', name: 'Élodie Dupont' }] });
    expect(mail.text).toBe(
      'Bonjour Élodie Dupont,\n\n.Ligne qui commence par un point\nhttps://amap-idf.org/newsletter/unsubscribe?token=abc.def\n.\nhttps://amap-idf.org/newsletter/unsubscribe?token=abc.deffin',
    );
    expect(mail.headerLines.find((h) => h.key === 'list-unsubscribe-post')?.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
  });

  it('refuses what could add a header line', () => {
    const r = recipients[0]!;
    expect(() => message.write({ ...r, to: 'a@b.org\r\nBcc: c@d.org' })).toThrow();
    expect(() => message.write({ ...r, messageId: 'x@y>\r\nBcc: c@d.org' })).toThrow();
    expect(() => message.write({ ...r, headers: { 'List-Unsubscribe': '<x>\r\nBcc: c@d.org' } })).toThrow();
    expect(() => message.write({ ...r, headers: {} })).toThrow();
    expect(() => new BulkMessage({ ...common, headers: { 'X-A': 'b\r\nBcc: c@d.org' } })).toThrow();
    expect(() => new BulkMessage({ ...common, subject: 'x', from: 'a@b.org\r\nBcc: c@d.org' })).toThrow();
  });
});
