import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { composeRaw, qpFragment } from '../../server/mail/mime.ts';

describe('raw MIME composition', () => {
  it('joins quoted-printable fragments into bodies that decode to the original text', async () => {
    const html = `<p style="color:#2d6a1f">Bonjour Élodie,</p>${'<td>é</td>'.repeat(200)}<a href="https://x.org/?a=1&amp;b=2">lien</a>`;
    const pieces = [html.slice(0, 37), ' ', html.slice(37, 500), html.slice(500)];
    const text = 'Bonjour à tous,\n\nLigne = égale ' + 'long '.repeat(40);
    const { raw, envelopeFrom, envelopeTo } = composeRaw({
      from: '"Réseau AMAP Île-de-France" <no-reply@amap-idf.org>',
      to: '"Jean \\"Evil\\" Dupont" <jean@example.org>'.replace('\\"Evil\\" ', ''),
      replyTo: 'contact@amap-idf.org',
      subject: 'Lettre de décembre — les nouvelles\r\nBcc: victim@example.com',
      messageId: 'abc.def@amap-idf.org',
      date: new Date('2026-12-01T08:00:00Z'),
      headers: {
        'List-Unsubscribe': `<https://amap-idf.org/newsletter/unsubscribe?token=${'t'.repeat(150)}>, <mailto:no-reply@amap-idf.org?subject=unsubscribe>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      textQp: qpFragment(text.slice(0, 10)) + qpFragment(text.slice(10)),
      htmlQp: pieces.map(qpFragment).join(''),
    });
    expect(envelopeFrom).toBe('no-reply@amap-idf.org');
    expect(envelopeTo).toBe('jean@example.org');
    for (const line of raw.split('\r\n')) if (!line.startsWith('List-Unsubscribe:')) expect(line.length).toBeLessThanOrEqual(998);
    expect(raw).not.toMatch(/^Bcc:/im);
    const mail = await simpleParser(raw);
    expect(mail.subject).toBe('Lettre de décembre — les nouvelles Bcc: victim@example.com');
    expect(mail.from?.value[0]).toEqual({ address: 'no-reply@amap-idf.org', name: 'Réseau AMAP Île-de-France' });
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : '').toBe('jean@example.org');
    // A fragment of a single space (or ending with one) keeps it.
    expect(mail.html).toBe(pieces.join(''));
    expect(mail.text).toBe(text);
    expect(mail.messageId).toBe('<abc.def@amap-idf.org>');
    expect(String(mail.headers.get('list')?.toString() ?? '')).toBeDefined();
    expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
  });

  it('refuses unsafe headers and addresses', () => {
    const base = { from: 'a@b.org', to: 'c@d.org', subject: 's', messageId: 'x@y', date: new Date(), headers: {}, textQp: '', htmlQp: '' };
    expect(() => composeRaw({ ...base, headers: { 'X-A': 'b\r\nBcc: c@d.org' } })).toThrow();
    expect(() => composeRaw({ ...base, to: 'c@d.org\r\nBcc: e@f.org' })).toThrow();
    expect(() => composeRaw({ ...base, messageId: 'x@y>\r\nBcc: e@f.org' })).toThrow();
  });
});
