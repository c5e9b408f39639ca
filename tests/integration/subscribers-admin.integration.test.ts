// The subscribers' admin page against a real instance: importing a CSV file from the page (a
// multipart form, as a browser sends it) runs in the background and shows its progress, then the
// counts and the refused lines; adding one address with or without a stated legal basis; the
// refusals (no file, no legal basis, anonymous visitor). A real SMTP server counts the emails.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithToken } from '../helpers/accounts.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp.ts';

let sink: SmtpSink;
let instance: TestInstance;
let token: string;

beforeAll(async () => {
  sink = await startSmtpSink();
  instance = await startTestInstance({ SMTP_URL: sink.url });
  ({ token } = await createUserWithToken(instance.ctx, 'editor'));
});
afterAll(async () => {
  await instance?.destroy();
  await sink?.close();
});

function form(fields: Record<string, string>, csv?: string): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  if (csv !== undefined) data.append('file', new Blob([csv], { type: 'text/csv' }), 'export-mailpro.csv');
  return data;
}

const post = (path: string, body: FormData | URLSearchParams) =>
  fetch(`${instance.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body, redirect: 'manual' });
const page = (path: string) => fetch(`${instance.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

describe('subscribers admin page', () => {
  it('shows the counts and the forms to editors only', async () => {
    expect((await fetch(`${instance.url}/admin/subscribers`, { redirect: 'manual' })).status).not.toBe(200);
    const response = await page('/admin/subscribers');
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('enctype="multipart/form-data"');
    expect(text).toContain('name="legalBasis"');
    expect(text).toContain('/api/v1/subscribers/export');
  });

  it('imports a file in the background, with a progress page, then the counts and refused lines', async () => {
    const lines = ['Email;Nom;Prénom'];
    for (let i = 0; i < 5000; i++) lines.push(`adherent${i}@example.org;Nom${i};Prénom${i}`);
    lines.push('pas-une-adresse;X;Y', 'adherent1@example.org;Doublon;Z');
    const sent = sink.count;
    const response = await post(
      '/admin/subscribers/import',
      form({ legalBasis: 'inscrits Mailpro, consentement 2024', frequency: 'monthly' }, lines.join('\n')),
    );
    expect(response.status).toBe(303);
    const location = response.headers.get('location') as string;
    expect(location).toMatch(/^\/admin\/subscribers\/imports\/[0-9a-f-]{36}$/);
    // Polled as a browser without JavaScript would (the page refreshes itself while it runs).
    let text = '';
    for (let i = 0; i < 300; i++) {
      const status = await page(location);
      expect(status.status).toBe(200);
      text = await status.text();
      if (text.includes('Import terminé')) break;
      expect(text).toContain('<meta http-equiv="refresh" content="1">');
      expect(text).toContain('<progress');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(text).toContain('Import terminé');
    expect(text).not.toContain('http-equiv="refresh"');
    expect(text).toContain('5000 adresses ajoutées');
    expect(text).toContain('1 doublons');
    expect(text).toMatch(/<td>5002<\/td><td>[^<]+<\/td>/); // the refused line, by its number
    const row = await instance.ctx.db
      .selectFrom('subscribers')
      .select(['status', 'frequency'])
      .where('email', '=', 'adherent42@example.org')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'active', frequency: 'monthly' });
    const consent = await instance.ctx.db
      .selectFrom('subscriber_consents')
      .select(['method', 'legal_basis'])
      .where('legal_basis', '=', 'inscrits Mailpro, consentement 2024')
      .execute();
    expect(consent.length).toBe(5000);
    expect(consent.every((c) => c.method === 'admin')).toBe(true);
    expect(sink.count).toBe(sent); // nobody emailed without a re-permission request
  });

  it('refuses a form without a file or without a legal basis, and an unknown import', async () => {
    const noFile = await post('/admin/subscribers/import', form({ legalBasis: 'adhésion 2026' }));
    expect(noFile.status).toBe(400);
    expect(await noFile.text()).toContain('Choisissez un fichier CSV');
    const noBasis = await post('/admin/subscribers/import', form({ legalBasis: ' ' }, 'email\nx@example.org\n'));
    expect(noBasis.status).toBe(400);
    expect(await noBasis.text()).toContain('base légale');
    const broken = await post('/admin/subscribers/import', form({ legalBasis: 'adhésion 2026' }, 'nom;prénom\nMartin;Anne\n'));
    const status = await page(broken.headers.get('location') as string);
    let text = await status.text();
    for (let i = 0; i < 50 && !text.includes('Import arrêté'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      text = await (await page(broken.headers.get('location') as string)).text();
    }
    expect(text).toContain('Import arrêté');
    expect(text).toContain('Aucune adresse de ce fichier');
    expect((await page('/admin/subscribers/imports/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('shows an import run by another process from the database, and one a restart cut short as interrupted', async () => {
    const db = instance.ctx.db;
    const running = randomUUID();
    await db.insertInto('subscriber_imports').values({ id: running, done: 1200, total: 5000 }).execute();
    const live = await (await page(`/admin/subscribers/imports/${running}`)).text();
    expect(live).toContain('Import en cours');
    expect(live).toContain('1200 sur 5000');
    expect(live).toContain('<meta http-equiv="refresh" content="1">');

    const cut = randomUUID();
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    await db
      .insertInto('subscriber_imports')
      .values({ id: cut, done: 3000, total: 5000, started_at: tenMinutesAgo, updated_at: tenMinutesAgo })
      .execute();
    const stopped = await page(`/admin/subscribers/imports/${cut}`);
    expect(stopped.status).toBe(200);
    const text = await stopped.text();
    expect(text).toContain('Import arrêté');
    expect(text).toContain('interrompu');
    expect(text).toContain('Les 3000 premières adresses sont enregistrées');
    expect(text).not.toContain('http-equiv="refresh"');
  });

  it('adds one address: active with a legal basis, pending and emailed without', async () => {
    const sent = sink.count;
    const withBasis = await post(
      '/admin/subscribers',
      new URLSearchParams({ email: 'papier@example.org', legalBasis: 'bulletin papier, AG 2026' }),
    );
    expect(withBasis.status).toBe(200);
    expect(await withBasis.text()).toContain('Adresse ajoutée et active');
    const without = await post('/admin/subscribers', new URLSearchParams({ email: 'confirmer@example.org', name: 'Camille' }));
    expect(await without.text()).toContain('courriel de confirmation');
    await sink.waitFor(sent + 1, 10_000);
    const rows = await instance.ctx.db
      .selectFrom('subscribers')
      .select(['email', 'status'])
      .where('email', 'in', ['papier@example.org', 'confirmer@example.org'])
      .orderBy('email')
      .execute();
    expect(rows).toEqual([
      { email: 'confirmer@example.org', status: 'pending' },
      { email: 'papier@example.org', status: 'active' },
    ]);
    const invalid = await post('/admin/subscribers', new URLSearchParams({ email: 'pas une adresse' }));
    expect(invalid.status).toBe(400);
  });
});
