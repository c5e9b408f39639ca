import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suppress } from '../../server/subscribers/subscribers.repository.ts';
import { hashEmail } from '../../server/subscribers/subscribers.service.ts';
import { createUserWithToken } from '../helpers/accounts.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp.ts';

let sink: SmtpSink;
let instance: TestInstance;
let token: string;

async function importCsv(body: Buffer | string, query = 'legalBasis=adh%C3%A9sion%202026'): Promise<{ status: number; json: any }> {
  const res = await fetch(`${instance.url}/api/v1/subscribers/import?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: res.status, json: await res.json() };
}

async function row(email: string) {
  return instance.ctx.db.selectFrom('subscribers').selectAll().where('email', '=', email).executeTakeFirst();
}

beforeAll(async () => {
  sink = await startSmtpSink();
  instance = await startTestInstance({ SMTP_URL: sink.url });
  ({ token } = await createUserWithToken(instance.ctx, 'editor'));
});
afterAll(async () => {
  await instance?.destroy();
  await sink?.close();
});

describe('subscriber import and export', () => {
  it('imports a UTF-8 comma CSV: duplicates merged, bad rows reported by line, consent recorded, nobody emailed', async () => {
    const csv = [
      'Email,Nom,Prénom,Date inscription',
      'anne.martin@example.org,Martin,Anne,2024-01-02',
      'ANNE.MARTIN@example.org,,,2024-02-02',
      'pas-une-adresse,Durand,Paul,2024-01-03',
      ',Sans,Adresse,2024-01-03',
      'bob@yopmail.com,Bob,,2024-01-04',
      '"chloe@example.org","Dupont, épouse Roy",Chloé,2024-01-05',
      '',
      'denis@example.org,Petit,Denis',
    ].join('\r\n');
    const { status, json } = await importCsv(csv);
    expect(status).toBe(200);
    expect(json).toMatchObject({ encoding: 'utf-8', delimiter: ',', imported: 3, duplicates: 1, alreadyKnown: 0, suppressed: 0 });
    expect(json.invalid).toEqual([
      { line: 4, reason: 'invalid email address "pas-une-adresse"' },
      { line: 5, reason: 'missing email address' },
      { line: 6, reason: 'disposable email address' },
    ]);
    expect(await row('anne.martin@example.org')).toMatchObject({ name: 'Anne Martin', status: 'active' });
    expect((await row('chloe@example.org'))?.name).toBe('Chloé Dupont, épouse Roy');
    const consents = await instance.ctx.db
      .selectFrom('subscriber_consents')
      .innerJoin('subscribers', 'subscribers.id', 'subscriber_consents.subscriber_id')
      .select(['action', 'method', 'legal_basis'])
      .where('email', '=', 'denis@example.org')
      .execute();
    expect(consents).toEqual([{ action: 'import', method: 'api', legal_basis: 'adhésion 2026' }]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(sink.count).toBe(0);
  });

  it('imports a Windows-1252 semicolon file with French headers, and never brings back erased or unsubscribed addresses', async () => {
    await suppress(instance.ctx.db, hashEmail('erased@example.org'), 'erased');
    await instance.ctx.db.updateTable('subscribers').set({ status: 'unsubscribed' }).where('email', '=', 'denis@example.org').execute();
    const text = [
      'Courriel;Nom;Prénom',
      'elodie@example.org;Lefèvre;Élodie',
      'erased@example.org;Effacé;Jean',
      'denis@example.org;Petit;Denis',
      'anne.martin@example.org;Martin;Anne',
    ].join('\r\n');
    const { status, json } = await importCsv(iconv.encode(text, 'windows-1252'));
    expect(status).toBe(200);
    expect(json).toMatchObject({ encoding: 'windows-1252', delimiter: ';', imported: 1, suppressed: 2, alreadyKnown: 1 });
    expect((await row('elodie@example.org'))?.name).toBe('Élodie Lefèvre');
    expect(await row('erased@example.org')).toBeUndefined();
    expect((await row('denis@example.org'))?.status).toBe('unsubscribed');
  });

  it('refuses a file without an email column, a file with mixed encodings, and a binary file, saying why', async () => {
    const missing = await importCsv('Nom;Prénom\nMartin;Anne\n');
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toMatch(/No email column/);
    const mixed = Buffer.concat([
      Buffer.from('email;nom\nzoe@example.org;Zoé\n'),
      iconv.encode('yann@example.org;Hervé\n', 'windows-1252'),
    ]);
    const broken = await importCsv(mixed);
    expect(broken.status).toBe(400);
    expect(broken.json.error.message).toMatch(/mixes two text encodings/);
    expect(await row('zoe@example.org')).toBeUndefined();
    const binary = await importCsv(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00]));
    expect(binary.status).toBe(415);
    const anonymous = await fetch(`${instance.url}/api/v1/subscribers/import?legalBasis=xyz`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'email\na@b.org',
    });
    expect(anonymous.status).toBe(401);
  });

  it('sends a re-permission email only when asked, and imports 20,000 rows in batches', async () => {
    const { json } = await importCsv('email\nrepermission@example.org\n', 'legalBasis=ancienne%20liste&repermission=true');
    expect(json.imported).toBe(1);
    await sink.waitFor(1, 20_000);
    expect(sink.messages[0]!.to).toEqual(['repermission@example.org']);
    expect((await row('repermission@example.org'))?.status).toBe('pending');

    const lines = ['E-mail;Nom'];
    for (let i = 0; i < 20_000; i++) lines.push(`bulk${i}@example.net;Nom ${i}`);
    const big = await importCsv(lines.join('\n'));
    expect(big.status).toBe(200);
    expect(big.json.imported).toBe(20_000);
  });

  it('adds a subscriber through the API and exports the list as CSV with formulas neutralised', async () => {
    const add = await fetch(`${instance.url}/api/v1/subscribers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'formula@example.org', name: '=HYPERLINK("http://evil")', legalBasis: 'bulletin papier signé' }),
    });
    expect(add.status).toBe(201);
    expect((await add.json()).status).toBe('active');
    const res = await fetch(`${instance.url}/api/v1/subscribers/export`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const csv = await res.text();
    expect(csv.split('\r\n')[0]).toBe('email,name,language,status,frequency,sources,networks,created_at,confirmed_at');
    expect(csv).toContain("formula@example.org,'=HYPERLINK( http://evil )");
    expect(csv).toContain('elodie@example.org,Élodie Lefèvre');
    expect(csv.split('\r\n').length).toBeGreaterThan(20_000);
  });
});
