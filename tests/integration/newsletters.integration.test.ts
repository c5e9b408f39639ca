import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceSecret } from '../../server/accounts/secrets.ts';
import { saveSenderSettings } from '../../server/mail/mail.settings.ts';
import { readToken } from '../../server/subscribers/tokens.ts';
import { createUserWithToken } from '../helpers/accounts.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';
import { seedAnnouncement, seedSubscribers } from '../helpers/newsletter-fixtures.ts';
import { parseMail, type SmtpSink, startSmtpSink } from '../helpers/smtp.ts';

let sink: SmtpSink;
let instance: TestInstance;
let token: string;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${instance.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json() };
}

async function waitForStatus(id: string, status: string, timeoutMs = 60_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { json } = await api('GET', `/api/v1/newsletters/${id}`);
    if (json.status === status) return json;
    if (Date.now() > until) throw new Error(`issue is ${json.status}, expected ${status}: ${JSON.stringify(json.progress)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  sink = await startSmtpSink();
  instance = await startTestInstance({ SMTP_URL: sink.url, INSTANCE_NAME: 'AMAP Test' });
  ({ token } = await createUserWithToken(instance.ctx, 'editor'));
  await saveSenderSettings(instance.ctx.db, instance.config, { ratePerSecond: 5000, concurrency: 10 });
});
afterAll(async () => {
  await instance?.destroy();
  await sink?.close();
});

describe('sending an issue', () => {
  it('sends one correct message to each of 1,000 subscribers', async () => {
    const emails = await seedSubscribers(instance.ctx, 1000);
    const local = await seedAnnouncement(instance.ctx, { title: 'Assemblée générale 2027' });
    const remote = await seedAnnouncement(instance.ctx, {
      title: 'Nouvelle charte des AMAP',
      origin: 'remote',
      networkHandle: 'national@amap-france.example',
      networkName: 'Miramap',
    });
    const created = await api('POST', '/api/v1/newsletters', {
      subject: 'Lettre de décembre\r\nBcc: victim@example.com',
      introduction: 'Bonjour à toutes et à tous.\n\nVoici les nouvelles du mois & <le reste>.',
      announcementIds: [local, remote],
    });
    expect(created.status).toBe(201);
    expect(created.json.subject).toBe('Lettre de décembre Bcc: victim@example.com');
    const id = created.json.id as string;

    const sent = await api('POST', `/api/v1/newsletters/${id}/send`, {});
    expect(sent.status).toBe(202);
    expect(sent.json.status).toBe('sending');
    expect(sent.json.progress.total).toBe(1000);
    expect(sent.json.htmlBytes).toBeLessThan(100 * 1024);
    const done = await waitForStatus(id, 'sent');
    expect(done.progress).toMatchObject({ total: 1000, sent: 1000, failed: 0, remaining: 0 });
    expect(sink.count).toBe(1000);

    const secret = await instanceSecret(instance.ctx);
    const ids = new Map(
      (await instance.ctx.db.selectFrom('subscribers').select(['id', 'email']).execute()).map((r) => [r.email, r.id] as const),
    );
    const seen = new Set<string>();
    for (const captured of sink.messages) {
      expect(captured.to).toHaveLength(1);
      const to = captured.to[0]!;
      expect(seen.has(to)).toBe(false);
      seen.add(to);
      expect(captured.raw.length).toBeLessThan(150 * 1024);
      const raw = captured.raw.toString('utf8');
      expect(raw).not.toMatch(/^Bcc:/im);
      expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
      expect(raw).toMatch(/^List-Id: <reseau\.newsletter\.127\.0\.0\.1>\r$/im);
      const mail = await parseMail(captured);
      expect(mail.subject).toBe('Lettre de décembre Bcc: victim@example.com');
      expect(mail.from?.value[0]?.name).toBe('AMAP Test');
      expect(mail.messageId).toBe(`<${id}.${ids.get(to)}@127.0.0.1>`);
      const listUnsub = raw.match(/^List-Unsubscribe:(.*(?:\r\n\s.*)*)/m)![1]!.replace(/\r\n\s+/g, ' ');
      const httpLink = listUnsub.match(/<(http[^>]+)>/)![1]!;
      expect(listUnsub).toMatch(/<mailto:no-reply@localhost\.localdomain\?subject=unsubscribe>/);
      // Every link is this subscriber's own.
      const linkToken = new URL(httpLink).searchParams.get('token')!;
      expect(readToken(secret, linkToken, 'manage')).toBe(ids.get(to));
      const html = mail.html as string;
      expect(html.length).toBeLessThan(100 * 1024);
      expect(html).toContain(httpLink.replaceAll('&', '&amp;'));
      expect(html).toContain('Assemblée générale 2027');
      expect(html).toContain('Miramap');
      expect(html).toContain('&amp; &lt;le reste&gt;');
      expect(html).toContain(`/newsletters/${id}`);
      expect(html).not.toMatch(/%%[A-Z_]+%%/);
      expect(html).not.toMatch(/<img[^>]+(width="1"|height="1")/);
      expect(mail.text).toContain(httpLink);
      expect(mail.text).toContain('Nouvelle charte des AMAP');
      expect(mail.text).not.toMatch(/%%[A-Z_]+%%/);
      expect(mail.attachments).toHaveLength(0);
      const name = to.match(/^member(\d+)@/)![1]!;
      if (Number(name) % 3 === 0) expect(mail.text!.startsWith('Hello,') || mail.text!.startsWith('Bonjour,')).toBe(true);
      else expect(mail.text).toContain(`Adhérent ${name},`);
    }
    expect(seen.size).toBe(1000);
    expect(new Set(emails)).toEqual(seen);
    const again = await api('POST', `/api/v1/newsletters/${id}/send`, {});
    expect(again.status).toBe(409);
  }, 180_000);

  it('records refusals, retries temporary failures, and marks repeated refusals as bouncing', async () => {
    await instance.ctx.db.deleteFrom('newsletter_deliveries').execute();
    await instance.ctx.db.deleteFrom('subscribers').execute();
    sink.messages.length = 0;
    sink.count = 0;
    await seedSubscribers(instance.ctx, 30, { prefix: 'ok' });
    await seedSubscribers(instance.ctx, 2, { prefix: 'gone' });
    await seedSubscribers(instance.ctx, 2, { prefix: 'later' });
    await seedSubscribers(instance.ctx, 2, { prefix: 'drop' });
    const deferred = new Set<string>();
    const dropped = new Set<string>();
    sink.behaviour.refuse = (to) => to.startsWith('gone');
    sink.behaviour.deferOnce = (to) => to.startsWith('later') && !deferred.has(to) && Boolean(deferred.add(to));
    sink.behaviour.disconnect = (to) => to.startsWith('drop') && !dropped.has(to) && Boolean(dropped.add(to));
    sink.behaviour.delayMs = 5;
    try {
      for (let round = 0; round < 3; round++) {
        const { json } = await api('POST', '/api/v1/newsletters', { subject: `Round ${round}`, introduction: 'Texte.' });
        await api('POST', `/api/v1/newsletters/${json.id}/send`, {});
        const until = Date.now() + 30_000;
        for (;;) {
          const { json: p } = await api('GET', `/api/v1/newsletters/${json.id}`);
          if (p.progress.sent + p.progress.failed >= 32 && p.progress.remaining <= 4) break;
          if (Date.now() > until) throw new Error(JSON.stringify(p.progress));
          await new Promise((r) => setTimeout(r, 100));
        }
        const rows = await instance.ctx.db
          .selectFrom('newsletter_deliveries')
          .innerJoin('subscribers', 'subscribers.id', 'newsletter_deliveries.subscriber_id')
          .select([
            'subscribers.email',
            'newsletter_deliveries.status',
            'newsletter_deliveries.last_error',
            'newsletter_deliveries.next_attempt_at',
          ])
          .where('issue_id', '=', json.id)
          .execute();
        const by = (prefix: string) => rows.filter((r) => r.email.startsWith(prefix));
        expect(by('gone').every((r) => r.status === 'failed' && /refused/.test(r.last_error ?? ''))).toBe(true);
        if (round === 0) {
          // Temporary failures wait for a retry later, with the reason kept.
          for (const r of [...by('later'), ...by('drop')]) {
            expect(r.status).toBe('pending');
            expect(r.next_attempt_at.getTime()).toBeGreaterThan(Date.now());
            expect(r.last_error).toMatch(/temporary/);
          }
          await instance.ctx.db
            .updateTable('newsletter_deliveries')
            .set({ next_attempt_at: new Date() })
            .where('issue_id', '=', json.id)
            .where('status', '=', 'pending')
            .execute();
          await instance.ctx.queue.send('newsletters.send', { issueId: json.id });
          await waitForStatus(json.id, 'sent');
          const after = await instance.ctx.db
            .selectFrom('newsletter_deliveries')
            .select('status')
            .where('issue_id', '=', json.id)
            .where('status', '=', 'sent')
            .execute();
          expect(after).toHaveLength(34);
        }
      }
      const bouncing = await instance.ctx.db
        .selectFrom('subscribers')
        .select(['email', 'status', 'bounce_count'])
        .where('email', 'like', 'gone%')
        .execute();
      expect(bouncing.every((s) => s.status === 'bouncing' && s.bounce_count === 3)).toBe(true);
      // Nothing lost, nothing doubled: each accepted message arrived once per issue.
      const perRecipient = new Map<string, number>();
      for (const m of sink.messages) perRecipient.set(m.to[0]!, (perRecipient.get(m.to[0]!) ?? 0) + 1);
      expect(perRecipient.get('ok0@example.org')).toBe(3);
      expect(perRecipient.get('later0@example.org')).toBe(3);
      expect(perRecipient.get('drop1@example.org')).toBe(3);
    } finally {
      sink.behaviour = {};
    }
  });

  it('pauses, resumes and cancels a send to a slow server without losing or doubling anything', async () => {
    await instance.ctx.db.deleteFrom('newsletter_deliveries').execute();
    await instance.ctx.db.deleteFrom('subscribers').execute();
    sink.messages.length = 0;
    sink.count = 0;
    await seedSubscribers(instance.ctx, 200, { prefix: 'slow' });
    sink.behaviour.delayMs = 100; // 200 messages on 10 connections: about 2 s, time to pause
    try {
      const { json } = await api('POST', '/api/v1/newsletters', { subject: 'Lente', introduction: 'Texte.' });
      await api('POST', `/api/v1/newsletters/${json.id}/send`, {});
      await sink.waitFor(20, 30_000);
      const paused = await api('POST', `/api/v1/newsletters/${json.id}/pause`);
      expect(paused.status).toBe(200);
      expect(paused.json.status).toBe('paused');
      // The batch in hand finishes; then nothing more goes out.
      await new Promise((r) => setTimeout(r, 1500));
      const atPause = sink.count;
      await new Promise((r) => setTimeout(r, 1500));
      expect(sink.count).toBe(atPause);
      expect(atPause).toBeLessThan(200);
      expect((await api('POST', `/api/v1/newsletters/${json.id}/pause`)).status).toBe(409);
      expect((await api('POST', `/api/v1/newsletters/${json.id}/resume`)).json.status).toBe('sending');
      const done = await waitForStatus(json.id, 'sent');
      expect(done.progress).toMatchObject({ sent: 200, remaining: 0 });
      expect(new Set(sink.messages.map((m) => m.to[0])).size).toBe(200);
      expect(sink.count).toBe(200);

      const second = await api('POST', '/api/v1/newsletters', { subject: 'Annulée', introduction: 'Texte.' });
      await api('POST', `/api/v1/newsletters/${second.json.id}/send`, {});
      await sink.waitFor(210, 30_000);
      const cancelled = await api('POST', `/api/v1/newsletters/${second.json.id}/cancel`);
      expect(cancelled.json.status).toBe('cancelled');
      await new Promise((r) => setTimeout(r, 1500));
      const after = await api('GET', `/api/v1/newsletters/${second.json.id}`);
      expect(after.json.progress.remaining).toBe(0);
      expect(after.json.progress.sent + after.json.progress.skipped).toBe(200);
      expect(sink.count - 200).toBe(after.json.progress.sent);
    } finally {
      sink.behaviour = {};
    }
  }, 120_000);
});

describe('deliveries without foreign keys (ADR 0009)', () => {
  it('skips a delivery whose subscriber is gone, and a deleted subscriber or issue takes its deliveries along', async () => {
    const db = instance.ctx.db;
    await db.deleteFrom('newsletter_deliveries').execute();
    await db.deleteFrom('subscribers').execute();
    sink.messages.length = 0;
    sink.count = 0;
    const emails = await seedSubscribers(instance.ctx, 20, { prefix: 'ghost' });
    const { json } = await api('POST', '/api/v1/newsletters', { subject: 'Orpheline', introduction: 'Texte.' });
    // As if its subscriber had been deleted while the audience was being taken.
    await db.insertInto('newsletter_deliveries').values({ issue_id: json.id, subscriber_id: randomUUID() }).execute();
    expect((await api('POST', `/api/v1/newsletters/${json.id}/send`, {})).status).toBe(202);
    const done = await waitForStatus(json.id, 'sent');
    expect(done.progress).toMatchObject({ sent: 20, skipped: 1, failed: 0, remaining: 0 });
    await sink.waitFor(20, 10_000);
    expect(sink.count).toBe(20);

    const deliveriesOf = (column: 'subscriber_id' | 'issue_id', id: string) =>
      db.selectFrom('newsletter_deliveries').select('status').where(column, '=', id).execute();
    const member = await db.selectFrom('subscribers').select('id').where('email', '=', emails[0]!).executeTakeFirstOrThrow();
    expect(await deliveriesOf('subscriber_id', member.id)).toEqual([{ status: 'sent' }]);
    await db.deleteFrom('subscribers').where('id', '=', member.id).execute();
    expect(await deliveriesOf('subscriber_id', member.id)).toEqual([]);
    expect(await deliveriesOf('issue_id', json.id)).toHaveLength(20);
    await db.deleteFrom('newsletter_issues').where('id', '=', json.id).execute();
    expect(await deliveriesOf('issue_id', json.id)).toEqual([]);
  });
});

describe('featuring shared resources', () => {
  it('lists a resource as a link to its page, never as an attachment', async () => {
    const ctx = instance.ctx;
    const { createResource } = await import('../../server/resources/resources.service.ts');
    const { user } = await createUserWithToken(ctx, 'editor');
    const resourceId = await createResource(
      { db: ctx.db, events: ctx.events, publicUrl: ctx.config.publicUrl },
      { id: user.id, displayName: 'Réseau' },
      {
        title: 'Fiche « prix juste »',
        description: 'Calculer un prix juste avec le paysan.',
        link: 'https://docs.amap.example/prix',
        licence: 'cc-by-4.0',
        audience: 'amaps',
      },
      [],
    );
    const compose = await fetch(`${instance.url}/admin/newsletters/new`, { headers: { authorization: `Bearer ${token}` } });
    expect(await compose.text()).toContain(`name="resourceIds" value="${resourceId}"`);

    const created = await api('POST', '/api/v1/newsletters', { subject: 'Ressources du mois', resourceIds: [resourceId] });
    expect(created.status).toBe(201);
    expect(created.json.resourceIds).toEqual([resourceId]);
    const before = sink.count;
    const test = await api('POST', `/api/v1/newsletters/${created.json.id}/test`, { to: 'relecture@example.org' });
    expect(test.status).toBe(200);
    await sink.waitFor(before + 1, 10_000);
    const captured = sink.messages.filter((m) => m.to[0] === 'relecture@example.org').at(-1)!;
    const mail = await parseMail(captured);
    const page = `${ctx.config.publicUrl}/resources/${resourceId}`;
    expect(mail.html as string).toContain('Ressources');
    expect(mail.html as string).toContain(`href="${page}"`);
    expect(mail.html as string).toContain('Fiche « prix juste »');
    expect(mail.html as string).toContain('CC BY 4.0');
    expect(mail.text).toContain(page);
    expect(mail.text).toContain('Calculer un prix juste');
    expect(mail.attachments).toHaveLength(0);
    expect(captured.raw.toString('utf8')).not.toMatch(/Content-Disposition:\s*attachment/i);
  });
});
