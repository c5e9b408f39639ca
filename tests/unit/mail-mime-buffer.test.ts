// composeRawBuffer (bulk sending) writes the same bytes as composeRaw, from bodies left in pieces.
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { composeRaw, composeRawBuffer, qpFragment, type RawScratch } from '../../server/mail/mime.ts';

const base = {
  from: '"Réseau AMAP Île-de-France" <no-reply@amap-idf.org>',
  to: '"Élodie Dupont" <elodie@example.org>',
  subject: 'Lettre de décembre — les nouvelles',
  messageId: 'abc.def@amap-idf.org',
  date: new Date('2026-12-01T08:00:00Z'),
  headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
};

describe('raw MIME composition into a Buffer', () => {
  it('gives the bytes of composeRaw, pieces copied in order', async () => {
    const html = ['<p>Bonjour ', 'Élodie', ',</p>', '<td>é</td>'.repeat(300), '<a href="https://x.org/?a=1&amp;b=2">lien</a>'];
    const text = ['Bonjour ', 'Élodie', ',\n\nLigne = égale ', 'long '.repeat(40)];
    const pieces = { htmlQp: html.map(qpFragment), textQp: text.map(qpFragment) };
    const joined = composeRaw({ ...base, htmlQp: pieces.htmlQp.join(''), textQp: pieces.textQp.join('') });
    const built = composeRawBuffer({ ...base, ...pieces });
    expect(built.envelopeTo).toBe('elodie@example.org');
    // Boundaries differ (a counter); everything else is the same.
    const strip = (s: string) => s.replace(/----=_amap_[0-9a-f]+_[0-9a-z]+/g, 'BOUNDARY');
    expect(strip(built.raw.toString('latin1'))).toBe(strip(joined.raw));
    const mail = await simpleParser(built.raw);
    expect(mail.html).toBe(html.join(''));
    expect(mail.text).toBe(text.join(''));
    expect(mail.subject).toBe(base.subject);
  });

  it("writes again into a lane's scratch buffer, each message whole", async () => {
    const scratch: RawScratch = {};
    const long = composeRawBuffer({ ...base, htmlQp: [qpFragment('<p>long</p>'.repeat(500))], textQp: [qpFragment('long')] }, scratch);
    const first = scratch.buffer;
    expect(first).toBeDefined();
    expect(long.raw.buffer).toBe(first!.buffer);
    const short = composeRawBuffer(
      { ...base, to: 'b@example.org', htmlQp: [qpFragment('<p>court</p>')], textQp: [qpFragment('court')] },
      scratch,
    );
    expect(scratch.buffer).toBe(first);
    const mail = await simpleParser(short.raw);
    expect(mail.html).toBe('<p>court</p>');
    expect(mail.text).toBe('court');
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : '').toBe('b@example.org');
  });

  it('refuses unsafe headers as composeRaw does', () => {
    const empty = { ...base, textQp: [], htmlQp: [] };
    expect(() => composeRawBuffer({ ...empty, headers: { 'X-A': 'b\r\nBcc: c@d.org' } })).toThrow();
    expect(() => composeRawBuffer({ ...empty, to: 'c@d.org\r\nBcc: e@f.org' })).toThrow();
  });
});
