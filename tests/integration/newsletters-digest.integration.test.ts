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
