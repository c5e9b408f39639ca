import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveSenderSettings } from '../../server/mail/mail.settings.ts';
import { saveAudienceSettings } from '../../server/newsletters/audience.settings.ts';
import { composeDigest } from '../../server/newsletters/newsletters.scheduler.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';
import { seedAnnouncement, seedSubscribers } from '../helpers/newsletter-fixtures.ts';
import { messagesTo, parseMail, type SmtpSink, startSmtpSink } from '../helpers/smtp.ts';

let sink: SmtpSink;
let instance: TestInstance;

async function waitSent(id: string): Promise<void> {
  const until = Date.now() + 30_000;
  while (
    (await instance.ctx.db.selectFrom('newsletter_issues').select('status').where('id', '=', id).executeTakeFirst())?.status !== 'sent'
  ) {
    if (Date.now() > until) throw new Error('digest not sent');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  sink = await startSmtpSink();
  instance = await startTestInstance({ SMTP_URL: sink.url });
  await saveSenderSettings(instance.ctx.db, instance.config, { ratePerSecond: 1000 });
  await saveAudienceSettings(instance.ctx.db, {
    isNational: false,
    nationalHandle: 'national@amap-france.example',
    resourceTags: ['ressources'],
  });
});
afterAll(async () => {
  await instance?.destroy();
  await sink?.close();
});

describe('digests', () => {
  it('composes a weekly digest per subscriber from local and federated announcements, skipping empty ones', async () => {
    const ctx = instance.ctx;
    const old = new Date(Date.now() - 10 * 24 * 3600 * 1000);
    await seedAnnouncement(ctx, { title: 'Trop ancienne', publishedAt: old });
    await seedAnnouncement(ctx, { title: 'Fête des AMAP de la région' });
    await seedAnnouncement(ctx, {
      title: 'Plaidoyer national',
      origin: 'remote',
      networkHandle: 'national@amap-france.example',
      networkName: 'Miramap',
    });
    await seedAnnouncement(ctx, {
      title: 'Guide du contrat',
      origin: 'remote',
      networkHandle: 'idf@amap-idf.example',
      networkName: 'AMAP IDF',
      tags: ['ressources'],
    });
    await seedAnnouncement(ctx, {
      title: 'Nouvelles de Bretagne',
      origin: 'remote',
      networkHandle: 'bzh@amap-bzh.example',
      networkName: 'AMAP BZH',
    });
    await seedSubscribers(ctx, 1, { prefix: 'local', sources: ['network'] });
    await seedSubscribers(ctx, 1, { prefix: 'national', sources: ['national'] });
    await seedSubscribers(ctx, 1, { prefix: 'resources', sources: ['resources'] });
    await seedSubscribers(ctx, 1, { prefix: 'bzh', sources: [], networks: ['bzh@amap-bzh.example'] });
    await seedSubscribers(ctx, 1, { prefix: 'nothing', sources: [] });
    await seedSubscribers(ctx, 1, { prefix: 'monthly', sources: ['network'], frequency: 'monthly' });

    const id = await composeDigest(ctx, 'weekly');
    expect(id).not.toBeNull();
    await waitSent(id!);
    const titles = async (address: string) => {
      const [m] = messagesTo(sink, address);
      if (!m) return null;
      const text = (await parseMail(m)).text!;
      return [...text.matchAll(/^## (.*)$/gm)].map((x) => x[1]);
    };
    expect(await titles('local0@example.org')).toEqual(['Fête des AMAP de la région']);
    expect(await titles('national0@example.org')).toEqual(['Plaidoyer national']);
    expect(await titles('resources0@example.org')).toEqual(['Guide du contrat']);
    expect(await titles('bzh0@example.org')).toEqual(['Nouvelles de Bretagne']);
    expect(await titles('nothing0@example.org')).toBeNull();
    expect(await titles('monthly0@example.org')).toBeNull();
    const html = (await parseMail(messagesTo(sink, 'national0@example.org')[0]!)).html as string;
    expect(html).toContain('Réseau Miramap');

    // Nothing new since: no second digest.
    expect(await composeDigest(ctx, 'weekly')).toBeNull();
  });

  it('adds new shared resources, as links, for the subscribers who chose them', async () => {
    const ctx = instance.ctx;
    const { createResource } = await import('../../server/resources/resources.service.ts');
    const { createUserWithToken } = await import('../helpers/accounts.ts');
    const { user } = await createUserWithToken(ctx, 'editor');
    const resourceId = await createResource(
      { db: ctx.db, events: ctx.events, publicUrl: ctx.config.publicUrl },
      { id: user.id, displayName: 'Réseau' },
      {
        title: 'Modèle de contrat AMAP',
        description: 'Un modèle à adapter pour chaque saison.',
        link: 'https://docs.amap.example/contrat',
        licence: 'cc-by-sa-4.0',
        audience: 'amaps',
      },
      [],
    );
    await seedSubscribers(ctx, 1, { prefix: 'libre', sources: ['resources'] });
    await seedSubscribers(ctx, 1, { prefix: 'sansres', sources: ['network'] });
    // Only the resource is new: the digest still goes out, to those who chose resources.
    const id = await composeDigest(ctx, 'weekly');
    expect(id).not.toBeNull();
    await waitSent(id!);
    const mails = messagesTo(sink, 'libre0@example.org');
    expect(mails).toHaveLength(1);
    const mail = await parseMail(mails[0]!);
    const page = `${ctx.config.publicUrl}/resources/${resourceId}`;
    expect(mail.text).toContain('Modèle de contrat AMAP');
    expect(mail.text).toContain(page);
    expect(mail.html as string).toContain(`href="${page}"`);
    expect(mail.html as string).toContain('CC BY-SA 4.0');
    expect(mail.attachments).toHaveLength(0);
    expect(messagesTo(sink, 'sansres0@example.org')).toHaveLength(0);
    const archive = await (await fetch(`${instance.url}/newsletters/${id}`)).text();
    expect(archive).toContain(`<a href="${page}">Modèle de contrat AMAP</a>`);
    expect(await composeDigest(ctx, 'weekly')).toBeNull();
  });

  it('groups announcements close together into one alert', async () => {
    const ctx = instance.ctx;
    // Everything until now was covered by a first alert (nobody asked for alerts yet).
    await composeDigest(ctx, 'alert');
    await seedSubscribers(ctx, 1, { prefix: 'alert', sources: ['network'], frequency: 'alert' });
    await seedAnnouncement(ctx, { title: 'Alerte un' });
    await seedAnnouncement(ctx, { title: 'Alerte deux' });
    const id = await composeDigest(ctx, 'alert');
    await waitSent(id!);
    const mails = messagesTo(sink, 'alert0@example.org');
    expect(mails).toHaveLength(1);
    const mail = await parseMail(mails[0]!);
    expect(mail.subject).toContain('2 nouvelles publications');
    expect(mail.text).toContain('Alerte un');
    expect(mail.text).toContain('Alerte deux');
  });

  it('publishes a print edition with short addresses and inline QR codes', async () => {
    const ctx = instance.ctx;
    const issue = await ctx.db.selectFrom('newsletter_issues').select('id').where('kind', '=', 'weekly').executeTakeFirstOrThrow();
    const page = await fetch(`${instance.url}/newsletters/${issue.id}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Plaidoyer national');
    const print = await fetch(`${instance.url}/newsletters/${issue.id}/print`);
    expect(print.status).toBe(200);
    const body = await print.text();
    expect(body).toContain('@page { size: A4');
    expect(body).toContain('@media print');
    expect(body).toMatch(/<svg[^>]*viewBox/);
    expect(body).toContain('amap-bzh.example/a/');
    expect(body).not.toMatch(/<(script|img|link)\b/);
    expect(body).not.toMatch(/src="https?:/);
    expect((await fetch(`${instance.url}/newsletters/00000000-0000-4000-8000-000000000000/print`)).status).toBe(404);
  });
});

describe('admin pages and privacy', () => {
  it('previews an issue at two widths with its weight, sends a test, and explains the data kept', async () => {
    const { createUserWithToken } = await import('../helpers/accounts.ts');
    const { token, user } = await createUserWithToken(instance.ctx, 'editor');
    const auth = { authorization: `Bearer ${token}` };
    const created = await fetch(`${instance.url}/api/v1/newsletters`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'Aperçu <test>', introduction: 'Bonjour.' }),
    });
    const { id } = (await created.json()) as { id: string };
    const page = await fetch(`${instance.url}/admin/newsletters/${id}`, { headers: auth });
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('Aperçu &lt;test&gt;');
    expect(body.match(/<iframe [^>]*srcdoc="/g)).toHaveLength(2);
    expect(body).toContain('width="375"');
    expect(body).toMatch(/Poids du message : <strong>[\d.]+ Ko<\/strong>/);
    const before = messagesToCount(user.email);
    const test = await fetch(`${instance.url}/admin/newsletters/${id}/test`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: '_csrf=',
    });
    const testBody = await test.text();
    expect(test.status).toBe(200);
    expect(testBody).toContain('Un essai a été envoyé');
    await sink.waitFor(sink.count, 5000);
    expect(messagesToCount(user.email)).toBe(before + 1);
    const trial = await parseMail(messagesTo(sink, user.email).at(-1)!);
    expect(trial.subject).toBe('[TEST] Aperçu <test>');
    const anonymous = await fetch(`${instance.url}/admin/newsletters/${id}`, { headers: { accept: 'application/json' } });
    expect(anonymous.status).toBe(401);

    const privacy = await (await fetch(`${instance.url}/privacy`)).text();
    expect(privacy).toContain('effacée après 7 jours');
    expect(privacy).toContain('après 30 jours');
    expect(privacy).toContain('127.0.0.1');
  });
});

function messagesToCount(address: string): number {
  return messagesTo(sink, address).length;
}

describe('the minute tick', () => {
  it('starts a scheduled issue when its time comes, and applies the retention rules', async () => {
    const { tick } = await import('../../server/newsletters/newsletters.scheduler.ts');
    const { createIssue, schedule } = await import('../../server/newsletters/newsletters.service.ts');
    const { hashEmail } = await import('../../server/subscribers/subscribers.service.ts');
    const ctx = instance.ctx;
    const issue = await ctx.db.transaction().execute((trx) => createIssue(trx, { subject: 'Programmée', introduction: 'Bonjour.' }, null));
    await schedule(ctx.db, issue.id, new Date(Date.now() + 60_000));
    await tick(ctx, new Date());
    expect((await ctx.db.selectFrom('newsletter_issues').select('status').where('id', '=', issue.id).executeTakeFirst())?.status).toBe(
      'scheduled',
    );
    await tick(ctx, new Date(Date.now() + 61_000));
    expect(['sending', 'sent']).toContain(
      (await ctx.db.selectFrom('newsletter_issues').select('status').where('id', '=', issue.id).executeTakeFirst())?.status,
    );

    await seedSubscribers(ctx, 1, { prefix: 'stale' });
    await seedSubscribers(ctx, 1, { prefix: 'left' });
    const day = 24 * 3600 * 1000;
    await ctx.db
      .updateTable('subscribers')
      .set({ status: 'pending', created_at: new Date(Date.now() - 8 * day) })
      .where('email', '=', 'stale0@example.org')
      .execute();
    await ctx.db
      .updateTable('subscribers')
      .set({ status: 'unsubscribed', unsubscribed_at: new Date(Date.now() - 31 * day) })
      .where('email', '=', 'left0@example.org')
      .execute();
    await tick(ctx, new Date());
    const left = await ctx.db
      .selectFrom('subscribers')
      .select('email')
      .where('email', 'in', ['stale0@example.org', 'left0@example.org'])
      .execute();
    expect(left).toEqual([]);
    const kept = await ctx.db
      .selectFrom('email_suppressions')
      .select('reason')
      .where('email_hash', '=', hashEmail('left0@example.org'))
      .execute();
    expect(kept).toEqual([{ reason: 'unsubscribed' }]);
  });
});

describe('newsletter settings page', () => {
  it('lets an administrator change the sender and keeps the DKIM key out of the page', async () => {
    const { createUserWithToken } = await import('../helpers/accounts.ts');
    const { loadSenderSettings } = await import('../../server/mail/mail.settings.ts');
    const crypto = await import('node:crypto');
    const { token } = await createUserWithToken(instance.ctx, 'admin');
    const { token: editorToken } = await createUserWithToken(instance.ctx, 'editor');
    const pem = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const form = new URLSearchParams({
      fromName: 'AMAP\r\nBcc: x@y.org Réseau',
      fromAddress: 'lettre@amap-test.example',
      replyTo: 'contact@amap-test.example',
      ratePerSecond: '20',
      concurrency: '3',
      dkimDomain: 'amap-test.example',
      dkimSelector: 'lettre',
      dkimKey: pem,
      primaryColor: '#123456',
      nationalHandle: 'national@amap-france.example',
    });
    const denied = await fetch(`${instance.url}/admin/newsletters/settings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editorToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    expect(denied.status).toBe(403);
    const res = await fetch(`${instance.url}/admin/newsletters/settings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('configurée pour amap-test.example');
    expect(page).not.toContain('PRIVATE KEY');
    const saved = await loadSenderSettings(instance.ctx.db, instance.config);
    expect(saved).toMatchObject({
      fromName: 'AMAP Bcc: x@y.org Réseau',
      fromAddress: 'lettre@amap-test.example',
      concurrency: 3,
      ratePerSecond: 20,
    });
    expect(saved.dkim?.keySelector).toBe('lettre');
  });
});
