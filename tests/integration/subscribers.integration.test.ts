import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceSecret } from '../../server/accounts/secrets.ts';
import { hashEmail } from '../../server/subscribers/subscribers.service.ts';
import { makeToken } from '../../server/subscribers/tokens.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';
import { messagesTo, parseMail, type SmtpSink, startSmtpSink } from '../helpers/smtp.ts';

let sink: SmtpSink;
let instance: TestInstance;

function form(fields: Record<string, string | string[]>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p.toString();
}

async function post(path: string, fields: Record<string, string | string[]>): Promise<Response> {
  return fetch(`${instance.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form(fields),
    redirect: 'manual',
  });
}

async function linkIn(address: string, count: number, pattern: RegExp): Promise<string> {
  const until = Date.now() + 20_000;
  while (messagesTo(sink, address).length < count) {
    if (Date.now() > until) throw new Error(`no email for ${address}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const mail = await parseMail(messagesTo(sink, address)[count - 1]!);
  const match = mail.text?.match(pattern);
  if (!match) throw new Error(`no link in ${mail.text}`);
  expect(mail.html).toContain(match[0].replaceAll('&', '&amp;'));
  return match[0];
}

async function subscriberRow(email: string) {
  return instance.ctx.db.selectFrom('subscribers').selectAll().where('email', '=', email).executeTakeFirst();
}

beforeAll(async () => {
  sink = await startSmtpSink();
  instance = await startTestInstance({ SMTP_URL: sink.url });
});
afterAll(async () => {
  await instance?.destroy();
  await sink?.close();
});

describe('subscription by double opt-in', () => {
  it('subscribes, confirms only on POST, then manages preferences, unsubscribes in one click, exports and erases', async () => {
    const page = await fetch(`${instance.url}/newsletter`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('name="consent"');
    expect(html).toContain('J’accepte de recevoir la lettre d’information de Réseau test');

    const res = await post('/newsletter', {
      email: '  Camille.Martin@Example.org ',
      name: 'Camille',
      frequency: 'weekly',
      sources: ['network', 'resources'],
      consent: 'yes',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Vérifiez votre boîte aux lettres');
    const email = 'camille.martin@example.org';
    expect((await subscriberRow(email))?.status).toBe('pending');

    const confirm = await linkIn(email, 1, /https?:\/\/\S+\/newsletter\/confirm\?token=[\w.-]+/);
    // A link scanner following the link changes nothing.
    const get = await fetch(confirm);
    expect(get.status).toBe(200);
    const confirmPage = await get.text();
    expect(confirmPage).toContain('method="post" action="/newsletter/confirm"');
    expect((await subscriberRow(email))?.status).toBe('pending');

    const token = new URL(confirm).searchParams.get('token')!;
    const done = await post('/newsletter/confirm', { token });
    expect(done.status).toBe(200);
    const confirmed = await done.text();
    expect(confirmed).toContain('Abonnement confirmé');
    const row = await subscriberRow(email);
    expect(row).toMatchObject({ status: 'active', name: 'Camille', frequency: 'weekly', sources: ['network', 'resources'] });
    const consents = await instance.ctx.db.selectFrom('subscriber_consents').selectAll().where('subscriber_id', '=', row!.id).execute();
    expect(consents.map((c) => [c.action, c.method, c.text_version])).toEqual([
      ['subscribe', 'form', '2026-11-v1'],
      ['confirm', 'form', '2026-11-v1'],
    ]);
    expect(consents[0]!.text).toContain('J’accepte');

    const manage = confirmed.match(/\/newsletter\/preferences\?token=([\w.-]+)/)![1]!;
    const prefs = await post('/newsletter/preferences', {
      token: manage,
      frequency: 'monthly',
      sources: 'national',
      language: 'en',
      name: 'Cam',
    });
    expect(prefs.status).toBe(200);
    expect(await subscriberRow(email)).toMatchObject({ frequency: 'monthly', sources: ['national'], language: 'en', name: 'Cam' });

    // RFC 8058 one-click: a POST with this body, no cookie, no CSRF token.
    const oneClick = await fetch(`${instance.url}/newsletter/unsubscribe?token=${manage}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.status).toBe(200);
    expect((await subscriberRow(email))?.status).toBe('unsubscribed');
    const multipart = new FormData();
    multipart.set('List-Unsubscribe', 'One-Click');
    const again = await fetch(`${instance.url}/newsletter/unsubscribe?token=${manage}`, { method: 'POST', body: multipart });
    expect(again.status).toBe(200);

    const exported = await fetch(`${instance.url}/newsletter/my-data.json?token=${manage}`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toContain('attachment');
    const data = (await exported.json()) as { email: string; consents: Array<{ action: string }> };
    expect(data.email).toBe(email);
    expect(data.consents.map((c) => c.action)).toEqual(['subscribe', 'confirm', 'preferences', 'unsubscribe']);

    const erase = await post('/newsletter/erase', { token: manage });
    expect(erase.status).toBe(200);
    // The address is gone from every table of the database; only its hash remains.
    const tables = await sql<{
      table_name: string;
    }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(instance.ctx.db);
    for (const { table_name } of tables.rows) {
      const found = await sql<{
        n: number;
      }>`select count(*)::int as n from ${sql.table(table_name)} t where t::text ilike ${'%camille.martin%'}`.execute(instance.ctx.db);
      expect(found.rows[0]!.n, table_name).toBe(0);
    }
    const suppressed = await instance.ctx.db
      .selectFrom('email_suppressions')
      .selectAll()
      .where('email_hash', '=', hashEmail(email))
      .execute();
    expect(suppressed.map((s) => s.reason)).toEqual(['erased']);
    expect((await fetch(`${instance.url}/newsletter/preferences?token=${manage}`)).status).toBe(404);
  });

  it('refuses expired and forged links', async () => {
    await post('/newsletter', { email: 'late@example.org', frequency: 'alert', consent: 'yes' });
    const row = await (async () => {
      await linkIn('late@example.org', 1, /https?:\/\/\S+\/newsletter\/confirm\?token=[\w.-]+/);
      return subscriberRow('late@example.org');
    })();
    const secret = await instanceSecret(instance.ctx);
    const expired = makeToken(secret, 'confirm', row!.id, Date.now() - 49 * 3600 * 1000);
    const res = await fetch(`${instance.url}/newsletter/confirm?token=${expired}`);
    expect(res.status).toBe(410);
    expect(await res.text()).toContain('Ce lien a expiré');
    expect((await post('/newsletter/confirm', { token: expired })).status).toBe(410);
    const forged = makeToken('not-the-secret', 'confirm', row!.id);
    expect((await post('/newsletter/confirm', { token: forged })).status).toBe(400);
    // A manage token is not a confirm token, and vice versa.
    const manage = makeToken(secret, 'manage', row!.id);
    expect((await post('/newsletter/confirm', { token: manage })).status).toBe(400);
    expect((await subscriberRow('late@example.org'))?.status).toBe('pending');
  });

  it('refuses invalid and disposable addresses, and a missing consent, with a clear message', async () => {
    const invalid = await post('/newsletter', { email: 'not-an-address', consent: 'yes' });
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toContain('n’est pas valide');
    const disposable = await post('/newsletter', { email: 'someone@yopmail.com', consent: 'yes' });
    expect(disposable.status).toBe(400);
    expect(await disposable.text()).toContain('adresses jetables');
    const noConsent = await post('/newsletter', { email: 'someone@example.org' });
    expect(noConsent.status).toBe(400);
    expect(await noConsent.text()).toContain('consentement');
    expect(await subscriberRow('someone@example.org')).toBeUndefined();
  });

  it('keeps a name with line breaks out of the headers', async () => {
    await post('/newsletter', { email: 'dominique@example.org', name: 'Dom\r\nBcc: victim@example.com', consent: 'yes' });
    await linkIn('dominique@example.org', 1, /https?:\/\/\S+\/newsletter\/confirm\?token=[\w.-]+/);
    const raw = messagesTo(sink, 'dominique@example.org')[0]!;
    expect(raw.to).toEqual(['dominique@example.org']);
    expect(raw.raw.toString()).not.toMatch(/^Bcc:/im);
  });

  it('stops a bot posting the form 100 times at a few emails to the victim', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await post('/newsletter', { email: 'victim@example.org', consent: 'yes' });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(97);
    // Let the queue drain, then count what the victim received.
    await new Promise((r) => setTimeout(r, 1500));
    expect(messagesTo(sink, 'victim@example.org').length).toBeLessThanOrEqual(3);
  });
});
