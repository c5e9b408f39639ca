// Following a group by email, against a real instance and a real SMTP server: the public form and
// its double opt-in (consent recorded word for word, no newsletter subscription), the daily digest
// (only visible posts, escaped, plain-text alternative, List-Unsubscribe with RFC 8058 one-click,
// nothing when there is nothing new, nothing twice), members-only groups (never to outsiders, and
// no longer to a member who left), and export and erasure through the subscriber's "my data".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, sha256Hex } from '../../server/accounts/secrets.ts';
import type { AppContext } from '../../server/core/context.ts';
import { findFollow } from '../../server/discussions/digest.repository.ts';
import { nextRunAfter, sendGroupDigest, startDailyDigests } from '../../server/discussions/digest.sender.ts';
import { confirmFollow, requestFollow } from '../../server/discussions/digest.service.ts';
import type { GroupRow } from '../../server/discussions/groups.repository.ts';
import { createGroup } from '../../server/discussions/groups.service.ts';
import { memberCsrfToken } from '../../server/discussions/member-auth.ts';
import { createMember, insertMemberSession, type MemberRow } from '../../server/discussions/members.repository.ts';
import { joinGroupIn, leaveGroupIn } from '../../server/discussions/memberships.service.ts';
import { approvePost } from '../../server/discussions/moderation.service.ts';
import { setPostStatus } from '../../server/discussions/posts.repository.ts';
import { createLocalPost } from '../../server/discussions/posts.service.ts';
import { saveSenderSettings } from '../../server/mail/mail.settings.ts';
import { deleteUnconfirmedBefore, findSubscriberByEmail } from '../../server/subscribers/subscribers.repository.ts';
import { tokenFor } from '../../server/subscribers/tokens.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';
import { messagesTo, parseMail, type SmtpSink, startSmtpSink } from '../helpers/smtp.ts';

let sink: SmtpSink;
let instance: TestInstance;
let ctx: AppContext;
let jardin: GroupRow;
let bureau: GroupRow;
let alice: MemberRow;
let bruno: MemberRow;

const READER = 'lectrice@example.org';

async function member(email: string, name: string): Promise<MemberRow> {
  return createMember(ctx.db, { email, displayName: name, instanceHandle: ctx.config.instanceHandle });
}

async function post(by: MemberRow, groupId: string, title: string | null, markdown: string, inReplyTo?: string) {
  return ctx.db.transaction().execute((trx) => createLocalPost(ctx, trx, { member: by, groupId, title, markdown, inReplyTo }));
}

async function consents(email: string) {
  const s = await findSubscriberByEmail(ctx.db, email);
  return ctx.db
    .selectFrom('subscriber_consents')
    .select(['action', 'text'])
    .where('subscriber_id', '=', s!.id)
    .orderBy('created_at')
    .execute();
}

async function lastMailTo(address: string, count: number) {
  const deadline = Date.now() + 15_000;
  while (messagesTo(sink, address).length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} messages to ${address}, got ${messagesTo(sink, address).length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const all = messagesTo(sink, address);
  return parseMail(all[all.length - 1]!);
}

async function memberSession(m: MemberRow): Promise<{ cookie: string; csrf: string }> {
  const id = randomToken(32);
  await insertMemberSession(ctx.db, { idHash: sha256Hex(id), memberId: m.id, expiresAt: new Date(Date.now() + 3600_000) });
  return { cookie: `amap_member=${id}`, csrf: await memberCsrfToken(ctx, id) };
}

function form(values: Record<string, string>): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(values).toString() };
}

beforeAll(async () => {
  sink = await startSmtpSink();
  instance = await startTestInstance({ SMTP_URL: sink.url });
  ctx = instance.ctx;
  await saveSenderSettings(ctx.db, instance.config, { ratePerSecond: 1000 });
  [jardin, bureau] = await ctx.db
    .transaction()
    .execute(async (trx) => [
      await createGroup(ctx, trx, { name: 'Jardin & potager', username: 'jardin', summary: 'Entraide' }),
      await createGroup(ctx, trx, { name: 'Bureau du réseau', username: 'bureau', visibility: 'members' }),
    ]);
  alice = await member('alice@example.org', 'Alice');
  bruno = await member('bruno@example.org', 'Bruno');
  await ctx.db.transaction().execute(async (trx) => {
    for (const m of [alice, bruno]) {
      await joinGroupIn(ctx, trx, { member: m, groupId: jardin.id });
      await joinGroupIn(ctx, trx, { member: m, groupId: bureau.id });
    }
  });
});

afterAll(async () => {
  await instance?.destroy();
  await sink?.close();
});

describe('following a public group by email', () => {
  let confirmUrl: string;

  it('shows the form and asks for consent before anything is recorded', async () => {
    const page = await fetch(`${instance.url}/groups/jardin/email`);
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('<h1 id="digest-');
    expect(body).toContain('résumé quotidien des nouveaux messages du groupe « Jardin &amp; potager');

    const refused = await fetch(`${instance.url}/groups/jardin/email`, form({ email: READER }));
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('Cochez la case de consentement');
    expect(await findSubscriberByEmail(ctx.db, READER)).toBeUndefined();
  });

  it('records a pending follow and the consent text, and sends a confirmation link', async () => {
    const res = await fetch(`${instance.url}/groups/jardin/email`, form({ email: ` ${READER.toUpperCase()} `, consent: 'yes' }));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Vérifiez votre boîte aux lettres');
    const mail = await lastMailTo(READER, 1);
    expect(mail.subject).toBe('Confirmez le suivi du groupe « Jardin & potager »');
    confirmUrl = /(http:\/\/\S+\/discussions\/digest\/confirm\?token=\S+)/.exec(mail.text!)![1]!;

    const subscriber = (await findSubscriberByEmail(ctx.db, READER))!;
    // Following a group is not a newsletter subscription.
    expect(subscriber.status).toBe('pending');
    expect(subscriber.sources).toEqual([]);
    expect((await findFollow(ctx.db, jardin.id, subscriber.id))?.status).toBe('pending');
    const [consent] = await consents(READER);
    expect(consent?.action).toBe('group-digest.subscribe');
    expect(consent?.text).toContain('Jardin & potager (jardin@');
    expect(consent?.text).toContain('Je peux me désabonner à tout moment');
  });

  it('confirms only on the POST of the button (a GET changes nothing)', async () => {
    const subscriber = (await findSubscriberByEmail(ctx.db, READER))!;
    const page = await fetch(confirmUrl);
    expect(page.status).toBe(200);
    expect((await findFollow(ctx.db, jardin.id, subscriber.id))?.status).toBe('pending');
    const token = new URL(confirmUrl).searchParams.get('token')!;
    const forged = await fetch(`${instance.url}/discussions/digest/confirm`, form({ token: `${token.slice(0, -2)}xx` }));
    expect(forged.status).toBe(400);
    const done = await fetch(`${instance.url}/discussions/digest/confirm`, form({ token }));
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Suivi confirmé');
    expect((await findFollow(ctx.db, jardin.id, subscriber.id))?.status).toBe('active');
    expect((await consents(READER)).map((c) => c.action)).toEqual(['group-digest.subscribe', 'group-digest.confirm']);
    // Asking again while following: no new consent, a reminder with the link to stop instead.
    const again = await fetch(`${instance.url}/groups/jardin/email`, form({ email: READER, consent: 'yes' }));
    expect(await again.text()).toContain('Vérifiez votre boîte aux lettres');
    const reminder = await lastMailTo(READER, 2);
    expect(reminder.subject).toBe('Vous suivez déjà le groupe « Jardin & potager »');
    expect(reminder.text).toMatch(/\/discussions\/digest\/unsubscribe\?token=/);
    expect(await consents(READER)).toHaveLength(2);
    // The retention of unconfirmed newsletter addresses leaves a confirmed follower alone.
    await deleteUnconfirmedBefore(ctx.db, new Date(Date.now() + 3600_000));
    expect(await findSubscriberByEmail(ctx.db, READER)).toBeDefined();
  });

  it('sends one daily digest of the visible new posts, escaped, with a one-click unsubscribe; nothing twice, nothing when empty', async () => {
    const first = await post(
      alice,
      jardin.id,
      'Semis de printemps',
      'Qui a des **graines** de tomates ? <script>alert(1)</script> %%UNSUBSCRIBE_URL%%',
    );
    await post(bruno, jardin.id, null, 'Moi, des cœurs de bœuf.', first.id);
    const removed = await post(bruno, jardin.id, 'Message retiré', 'Ce message sera retiré.');
    await setPostStatus(ctx.db, removed.id, 'removed');
    const before = sink.messages.length;

    const until = new Date(Date.now() + 1000);
    expect(await startDailyDigests(ctx, until)).toBe(1);
    const mail = await lastMailTo(READER, 3);
    expect(sink.messages.length).toBe(before + 1);
    expect(mail.subject).toBe('Jardin & potager : 2 nouveaux messages');
    const text = mail.text!;
    expect([...text.matchAll(/^## (.*)$/gm)].map((m) => m[1])).toEqual(['Semis de printemps', 'Réponse dans « Semis de printemps »']);
    expect(text).not.toContain('Message retiré');
    expect(text).toContain(`${instance.url}/discussions/posts/${first.id}`);
    // A placeholder written in a post stays text: it is never filled with someone's link.
    expect(text).toContain('% %UNSUBSCRIBE_URL% %');
    const html = String(mail.html);
    expect(html).not.toContain('<script>');
    expect(html).toContain('Semis de printemps');

    // The headers as written on the wire (folded lines joined).
    const raw = messagesTo(sink, READER).at(-1)!.raw.toString('latin1');
    expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    const unsubscribe = raw.match(/^List-Unsubscribe:(.*(?:\r\n\s.*)*)/m)![1]!.replace(/\r\n\s+/g, '');
    const oneClick = /<(http:\/\/[^>]+\/discussions\/digest\/unsubscribe\?token=[^>]+)>/.exec(unsubscribe)![1]!;
    expect(unsubscribe).toContain('<mailto:');
    expect(text).toContain(oneClick);

    // Again for the same window: already served. A later window with nothing new: nothing sent.
    expect(await sendGroupDigest(ctx, jardin.id, until)).toEqual({ sent: 0, skipped: 1, failed: 0 });
    expect(await sendGroupDigest(ctx, jardin.id, new Date(until.getTime() + 3600_000))).toEqual({ sent: 0, skipped: 1, failed: 0 });
    expect(sink.messages.length).toBe(before + 1);

    // Each link does one thing: the newsletter's link cannot stop the digest, nor the reverse.
    const subscriberId = (await findSubscriberByEmail(ctx.db, READER))!.id;
    const manage = await tokenFor(ctx, 'manage', subscriberId);
    expect((await fetch(`${instance.url}/discussions/digest/unsubscribe?token=${manage}`, form({}))).status).toBe(400);
    const stopToken = new URL(oneClick).searchParams.get('token')!;
    expect((await fetch(`${instance.url}/newsletter/unsubscribe?token=${stopToken}`, form({}))).status).toBe(400);
    expect((await findFollow(ctx.db, jardin.id, subscriberId))?.status).toBe('active');

    // RFC 8058: the mail program POSTs without cookies; the newsletter status is not touched.
    const res = await fetch(oneClick, form({ 'List-Unsubscribe': 'One-Click' }));
    expect(res.status).toBe(200);
    const subscriber = (await findSubscriberByEmail(ctx.db, READER))!;
    expect(await findFollow(ctx.db, jardin.id, subscriber.id)).toBeUndefined();
    expect(subscriber.status).toBe('pending');
    expect((await consents(READER)).at(-1)?.action).toBe('group-digest.unsubscribe');
    await post(alice, jardin.id, 'Après le désabonnement', 'Personne ne doit le recevoir par courriel.');
    expect(await sendGroupDigest(ctx, jardin.id, new Date(Date.now() + 1000))).toEqual({ sent: 0, skipped: 0, failed: 0 });
  });
});

describe('the daily schedule', () => {
  it('runs at the configured hour, today if it is still to come, else tomorrow', () => {
    expect(nextRunAfter(new Date('2026-11-29T05:00:00Z'), 7).toISOString()).toBe('2026-11-29T07:00:00.000Z');
    expect(nextRunAfter(new Date('2026-11-29T07:00:00Z'), 7).toISOString()).toBe('2026-11-30T07:00:00.000Z');
  });
});

describe('members-only groups', () => {
  it('is never offered nor sent to outsiders', async () => {
    expect((await fetch(`${instance.url}/groups/bureau/email`)).status).toBe(404);
    const res = await fetch(`${instance.url}/groups/bureau/email`, form({ email: 'curieux@example.org', consent: 'yes' }));
    expect(res.status).toBe(404);
    expect(await findSubscriberByEmail(ctx.db, 'curieux@example.org')).toBeUndefined();
    await expect(
      ctx.db
        .transaction()
        .execute((trx) => requestFollow(ctx, trx, { groupId: bureau.id, email: 'curieux@example.org', locale: 'fr', consent: true })),
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  it('is offered to a signed-in accepted member, for their own address only', async () => {
    const carol = await member('carol@example.org', 'Carol');
    const outsider = await memberSession(carol);
    expect((await fetch(`${instance.url}/groups/bureau/email`, { headers: { cookie: outsider.cookie } })).status).toBe(404);

    const session = await memberSession(alice);
    const page = await fetch(`${instance.url}/groups/bureau/email`, { headers: { cookie: session.cookie } });
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('l’adresse de votre compte de membre');
    expect(body).not.toContain('name="email"');
    // A typed address is ignored: the digest of a members-only group goes to the member's own.
    const res = await fetch(`${instance.url}/groups/bureau/email`, {
      ...form({ email: 'autre@example.org', consent: 'yes', _csrf: session.csrf }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session.cookie },
    });
    expect(res.status).toBe(200);
    expect(await findSubscriberByEmail(ctx.db, 'autre@example.org')).toBeUndefined();
    const mail = await lastMailTo('alice@example.org', 1);
    expect(mail.subject).toBe('Confirmez le suivi du groupe « Bureau du réseau »');
  });

  it('goes to accepted members only, and stops when they leave', async () => {
    // Alice asked through the form above; Bruno asks here. Both confirm.
    await ctx.db
      .transaction()
      .execute((trx) => requestFollow(ctx, trx, { groupId: bureau.id, email: bruno.email, locale: 'fr', consent: true }));
    for (const m of [alice, bruno]) {
      const s = (await findSubscriberByEmail(ctx.db, m.email))!;
      await ctx.db.transaction().execute((trx) => confirmFollow(ctx, trx, s.id, bureau.id));
    }
    await post(alice, bureau.id, 'Ordre du jour', 'Réunion du bureau jeudi.');
    await ctx.db.transaction().execute((trx) => leaveGroupIn(ctx, trx, { member: bruno, groupId: bureau.id }));
    const before = messagesTo(sink, 'bruno@example.org').length;

    const outcome = await sendGroupDigest(ctx, bureau.id, new Date(Date.now() + 1000));
    expect(outcome).toEqual({ sent: 1, skipped: 0, failed: 0 });
    const mail = await lastMailTo('alice@example.org', 2);
    expect(mail.subject).toBe('Bureau du réseau : 1 nouveau message');
    expect(await consents('alice@example.org')).toEqual([
      expect.objectContaining({ action: 'group-digest.subscribe', text: expect.stringContaining('Bureau du réseau') }),
      expect.objectContaining({ action: 'group-digest.confirm' }),
    ]);
    expect(mail.text).toContain('## Ordre du jour');
    expect(messagesTo(sink, 'bruno@example.org').length).toBe(before);
  });

  it('includes a post approved after its day: it goes by when the post became visible', async () => {
    const held = await post(alice, bureau.id, 'Compte rendu à relire', 'Tenu par la modération avant parution.');
    await setPostStatus(ctx.db, held.id, 'held');
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the window of the digest above
    expect(await sendGroupDigest(ctx, bureau.id, new Date())).toEqual({ sent: 0, skipped: 1, failed: 0 });
    await ctx.db.transaction().execute((trx) => approvePost(ctx, trx, { postId: held.id, moderator: 'test' }));
    expect(await sendGroupDigest(ctx, bureau.id, new Date(Date.now() + 1000))).toEqual({ sent: 1, skipped: 0, failed: 0 });
    const mail = await lastMailTo('alice@example.org', 3);
    expect(mail.text).toContain('## Compte rendu à relire');
  });
});

describe('my data', () => {
  it('exports the groups followed and erases them with the subscriber', async () => {
    const s = (await findSubscriberByEmail(ctx.db, 'alice@example.org'))!;
    const token = await tokenFor(ctx, 'manage', s.id);
    const exported = await (await fetch(`${instance.url}/newsletter/my-data.json?token=${token}`)).json();
    expect(exported.groupDigests).toEqual([
      expect.objectContaining({ group: 'Bureau du réseau', status: 'active', lastSentAt: expect.any(String) }),
    ]);
    expect(exported.consents.map((c: { action: string }) => c.action)).toContain('group-digest.confirm');

    const erased = await fetch(`${instance.url}/newsletter/erase`, form({ token }));
    expect(erased.status).toBe(200);
    expect(await findFollow(ctx.db, bureau.id, s.id)).toBeUndefined();
    expect(await ctx.db.selectFrom('discussion_email_followers').select('group_id').where('subscriber_id', '=', s.id).execute()).toEqual(
      [],
    );
  });
});
