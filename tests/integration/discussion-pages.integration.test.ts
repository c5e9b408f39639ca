// The discussion pages over real HTTP (no browser): forms need their CSRF token, a sign-in link
// opened with GET signs nobody in, a group with approval goes through the moderation page, a held
// post shows only to its author and the moderators until approved, hashtags list public posts only,
// and every refusal is a page in French, not JSON.
import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, sha256Hex } from '../../server/accounts/secrets.ts';
import type { GroupRow } from '../../server/discussions/groups.repository.ts';
import { createGroup } from '../../server/discussions/groups.service.ts';
import { memberCsrfToken } from '../../server/discussions/member-auth.ts';
import { createMember, findMemberByEmail, insertMemberSession, type MemberRow } from '../../server/discussions/members.repository.ts';
import { joinGroup } from '../../server/discussions/memberships.service.ts';
import { findPostById } from '../../server/discussions/posts.repository.ts';
import { createLocalPost } from '../../server/discussions/posts.service.ts';
import { createTestUser, csrfFrom, loginSession } from '../helpers/accounts.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';

let instance: TestInstance;
let approval: GroupRow;
let secret: GroupRow;

interface MemberSession {
  member: MemberRow;
  cookie: string;
  csrf: string;
}

async function memberSession(email: string, name: string): Promise<MemberSession> {
  const ctx = instance.ctx;
  const member = await ctx.db
    .transaction()
    .execute((trx) => createMember(trx, { email, displayName: name, instanceHandle: ctx.config.instanceHandle }));
  const id = randomToken(32);
  await insertMemberSession(ctx.db, { idHash: sha256Hex(id), memberId: member.id, expiresAt: new Date(Date.now() + 3600_000) });
  return { member, cookie: `amap_member=${id}`, csrf: await memberCsrfToken(ctx, id) };
}

function post(path: string, cookie: string, fields: Record<string, string>): Promise<Response> {
  return fetch(`${instance.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams(fields).toString(),
  });
}

function get(path: string, cookie = ''): Promise<Response> {
  return fetch(`${instance.url}${path}`, { headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) }, redirect: 'manual' });
}

beforeAll(async () => {
  instance = await startTestInstance();
  const ctx = instance.ctx;
  [approval, secret] = await ctx.db
    .transaction()
    .execute(async (trx) => [
      await createGroup(ctx, trx, { name: 'Paysans bio', username: 'paysans', joinPolicy: 'approval' }),
      await createGroup(ctx, trx, { name: 'Trésorerie', username: 'tresorerie', visibility: 'members' }),
    ]);
});

afterAll(async () => {
  await instance?.destroy();
});

describe('discussion pages over HTTP', () => {
  it('refuses a member form without its CSRF token, with a French page', async () => {
    const alice = await memberSession('alice@example.org', 'Alice');
    const refused = await post('/groups/paysans/join', alice.cookie, {});
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('text/html');
    expect(await refused.text()).toContain('Ce formulaire a expiré');
    const accepted = await post('/groups/paysans/join', alice.cookie, { _csrf: alice.csrf });
    expect(accepted.status).toBe(303);
    expect(accepted.headers.get('location')).toBe('/groups/paysans?done=requested');
  });

  it('signs in only by the button of the emailed link (a GET changes nothing), and once', async () => {
    const form = await get('/members/sign-in');
    const pre = form.headers
      .getSetCookie()
      .find((c) => c.startsWith('amap_csrf='))!
      .split(';')[0]!;
    const sent = await post('/members/sign-in', pre, { _csrf: csrfFrom(await form.text()), email: 'Bob@Example.org' });
    expect(sent.status).toBe(303);
    expect(sent.headers.get('location')).toBe('/members/sign-in?done=sent');

    // Without SMTP_URL the email lands in DATA_DIR/outbox, written by the queue's worker.
    const outbox = path.join(instance.config.dataDir, 'outbox');
    let link: string | undefined;
    const until = Date.now() + 20_000;
    while (!link && Date.now() < until) {
      for (const name of fs.existsSync(outbox) ? fs.readdirSync(outbox).filter((n) => n.endsWith('.eml')) : []) {
        const mail = await simpleParser(fs.readFileSync(path.join(outbox, name)));
        const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
        if (to?.text.includes('bob@example.org')) link = /\/members\/sign-in\/[\w-]+/.exec(mail.text ?? '')?.[0];
      }
      if (!link) await new Promise((r) => setTimeout(r, 50));
    }
    expect(link).toBeDefined();

    const page = await get(link!, pre);
    expect(page.status).toBe(200);
    expect(page.headers.getSetCookie().some((c) => c.startsWith('amap_member='))).toBe(false);
    const html = await page.text();
    expect(html).toContain('Me connecter');
    const confirmed = await post(link!, pre, { _csrf: csrfFrom(html) });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get('location')).toBe('/members/me');
    const cookie = confirmed.headers
      .getSetCookie()
      .find((c) => c.startsWith('amap_member='))!
      .split(';')[0]!;
    const me = await get('/members/me', cookie);
    expect(await me.text()).toContain('bob@example.org');
    expect(me.headers.get('cache-control')).toBe('private, no-store');

    const again = await post(link!, pre, { _csrf: csrfFrom(html) });
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('n’est plus valable');

    // My data: the download, then the erasure (only once confirmed), which also signs out.
    const exported = await get('/members/me/export', cookie);
    expect(exported.headers.get('content-disposition')).toContain('attachment');
    expect(JSON.stringify(await exported.json())).toContain('bob@example.org');
    const meCsrf = csrfFrom(await (await get('/members/me', cookie)).text());
    const unconfirmed = await post('/members/me/erase', cookie, { _csrf: meCsrf });
    expect(unconfirmed.headers.get('location')).toBe('/members/me');
    expect(await findMemberByEmail(instance.ctx.db, 'bob@example.org')).toBeDefined();
    const erased = await post('/members/me/erase', cookie, { _csrf: meCsrf, confirm: 'yes' });
    expect(erased.status).toBe(303);
    expect(erased.headers.get('location')).toBe('/members/sign-in?done=erased');
    expect(await findMemberByEmail(instance.ctx.db, 'bob@example.org')).toBeUndefined();
    expect((await get('/members/me', cookie)).headers.get('location')).toContain('/members/sign-in');
  });

  it('takes a request to join through the moderation page, with a reason that the log keeps', async () => {
    const ctx = instance.ctx;
    const admin = await createTestUser(ctx, 'admin');
    const session = await loginSession(instance.url, admin.user.email, admin.password);
    const carol = await memberSession('carol@example.org', 'Carol');
    expect(await joinGroup(ctx, { member: carol.member, groupId: approval.id })).toBe('pending');

    const page = await get('/moderation', session.cookie);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Demandes d’adhésion');
    expect(html).toContain('Carol');

    const actor = `${ctx.config.publicUrl}/ap/actors/${carol.member.username}`;
    const noReason = await post('/moderation/memberships', session.cookie, {
      _csrf: session.csrf,
      groupId: approval.id,
      actor,
      decision: 'accept',
      reason: ' ',
    });
    expect(noReason.status).toBe(400);
    const done = await post('/moderation/memberships', session.cookie, {
      _csrf: session.csrf,
      groupId: approval.id,
      actor,
      decision: 'accept',
      reason: 'Paysanne du réseau',
    });
    expect(done.status).toBe(303);
    const group = await (await get('/groups/paysans', carol.cookie)).text();
    expect(group).toContain('Vous êtes membre de ce groupe.');
    expect(group).toContain('Lancer une discussion');
    const log = await (await get('/moderation/log', session.cookie)).text();
    expect(log).toContain('accept_member');
    expect(log).toContain('Paysanne du réseau');

    // A member who moderates nothing is told so.
    const dave = await memberSession('dave@example.org', 'Dave');
    const refused = await get('/moderation', dave.cookie);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('Seuls les administrateurs du réseau');
  });

  it('posts, replies and reports through the forms, and shows why a refused post failed', async () => {
    const ctx = instance.ctx;
    const erin = await memberSession('erin@example.org', 'Erin');
    await joinGroup(ctx, { member: erin.member, groupId: secret.id });
    const created = await post('/groups/tresorerie/posts', erin.cookie, {
      _csrf: erin.csrf,
      title: 'Budget',
      body: 'Le budget #tresor est de 1234.',
    });
    expect(created.status).toBe(303);
    const location = created.headers.get('location')!;
    expect(location).toMatch(/^\/discussions\/posts\/[0-9a-f-]{36}\?done=posted$/);
    const threadId = location.split('/')[3]!.split('?')[0]!;
    const thread = await (await get(location, erin.cookie)).text();
    expect(thread).toContain('Votre message est publié.');
    expect(thread).toContain('1234');

    // The members-only post is no public #tag result; the public thread below is.
    const frank = await memberSession('frank@example.org', 'Frank');
    const outsider = await post(`/discussions/posts/${threadId}/replies`, frank.cookie, { _csrf: frank.csrf, body: 'Je veux voir.' });
    expect(outsider.status).toBe(403);
    const refusal = await outsider.text();
    expect(refusal).toContain('Votre message n’a pas pu être publié');
    expect(refusal).toContain('Je veux voir.');
    expect(refusal).not.toContain('1234');

    const reply = await post(`/discussions/posts/${threadId}/replies`, erin.cookie, { _csrf: erin.csrf, body: 'Voté à l’unanimité.' });
    expect(reply.status).toBe(303);
    expect(reply.headers.get('location')).toMatch(new RegExp(`^/discussions/posts/${threadId}\\?done=replied#p-[0-9a-f-]{36}$`));

    const empty = await post('/groups/tresorerie/posts', erin.cookie, { _csrf: erin.csrf, title: 'Vide', body: '   ' });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('Le message est vide');

    const report = await post(`/discussions/posts/${threadId}/report`, erin.cookie, { _csrf: erin.csrf, reason: 'Chiffre faux' });
    expect(report.status).toBe(303);
    expect(report.headers.get('location')).toContain('done=reported');

    // Its author removes the reply: it stays as "message retiré"; nobody else may do so.
    const replyId = reply.headers.get('location')!.split('#p-')[1]!;
    expect((await post(`/discussions/posts/${replyId}/delete`, frank.cookie, { _csrf: frank.csrf })).status).toBe(403);
    const removed = await post(`/discussions/posts/${replyId}/delete`, erin.cookie, { _csrf: erin.csrf });
    expect(removed.headers.get('location')).toBe(`/discussions/posts/${threadId}?done=deleted#p-${replyId}`);
    const after = await (await get(`/discussions/posts/${threadId}`, erin.cookie)).text();
    expect(after).toContain('Message retiré.');
    expect(after).not.toContain('Voté à l’unanimité.');

    const tagged = await (await get('/groups?tag=tresor')).text();
    expect(tagged).toContain('Messages publics avec #tresor');
    expect(tagged).not.toContain('1234');
  });

  it('shows a held post only to its author and the moderators, until approved', async () => {
    const ctx = instance.ctx;
    const gina = await memberSession('gina@example.org', 'Gina');
    // The request to join is accepted directly here (the moderation page is tested above).
    await joinGroup(ctx, { member: gina.member, groupId: approval.id });
    await ctx.db.updateTable('discussion_memberships').set({ status: 'accepted' }).where('member_id', '=', gina.member.id).execute();
    const root = await ctx.db.transaction().execute((trx) =>
      createLocalPost(ctx, trx, {
        member: gina.member,
        groupId: approval.id,
        title: 'Semences',
        markdown: 'Échange de semences #graines',
      }),
    );
    // Hold it as a moderation setting would (received posts from untrusted servers are held).
    await ctx.db.updateTable('discussion_posts').set({ status: 'held' }).where('id', '=', root.id).execute();
    expect((await get(`/discussions/posts/${root.id}`)).status).toBe(404);
    const own = await get(`/discussions/posts/${root.id}`, gina.cookie);
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('En attente d’approbation');

    const admin = await createTestUser(ctx, 'admin');
    const session = await loginSession(instance.url, admin.user.email, admin.password);
    expect(await (await get('/moderation', session.cookie)).text()).toContain('Échange de semences');
    const single = await get(`/moderation/posts/${root.id}`, session.cookie);
    expect(single.status).toBe(200);
    expect(await single.text()).toContain('Modérer un message');
    expect((await get(`/moderation/posts/${root.id}`, gina.cookie)).status).toBe(403);
    const approved = await post(`/moderation/posts/${root.id}/approve`, session.cookie, { _csrf: session.csrf, reason: 'Conforme' });
    expect(approved.status).toBe(303);
    expect((await findPostById(ctx.db, root.id))?.status).toBe('visible');
    const open = await get(`/discussions/posts/${root.id}`);
    expect(open.status).toBe(200);
    expect(await open.text()).toContain('Échange de semences');
    expect(await (await get('/groups?tag=graines')).text()).toContain('Échange de semences');
  });
});
