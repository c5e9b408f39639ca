// The discussions domain over real HTTP on a real instance (its database, its job queue, a real
// SMTP server): members signing in by emailed link, groups, posts and replies, the bad inputs of
// the issue (non-member, missing post, flood, ban, hostile HTML, very long thread), moderation,
// and a member taking their data away then erasing it.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../server/accounts/secrets.ts';
import { insertPost } from '../../server/discussions/posts.repository.ts';
import { createUserWithToken } from '../helpers/accounts.ts';
import { api, json, type MemberSession, signIn, signInLinkIn, tokenOf } from '../helpers/discussions.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';
import { messagesTo, parseMail, type SmtpSink, startSmtpSink } from '../helpers/smtp.ts';

let sink: SmtpSink;
let instance: TestInstance;
let admin: { token: string };
let editor: { token: string };
const removedEvents: Array<{ postId: string; apId: string; byModerator: boolean }> = [];

beforeAll(async () => {
  sink = await startSmtpSink();
  instance = await startTestInstance({ SMTP_URL: sink.url });
  admin = { token: (await createUserWithToken(instance.ctx, 'admin')).token };
  editor = { token: (await createUserWithToken(instance.ctx, 'editor')).token };
  // What federation would see: every removal is published (to send a Delete).
  instance.ctx.events.on('discussion.post.removed', async (payload) => {
    removedEvents.push(payload);
  });
}, 60_000);

afterAll(async () => {
  await instance?.destroy();
  await sink?.close();
});

async function createGroup(body: Record<string, unknown>, auth: { token: string } = admin) {
  return json<{ id: string; apId: string; username: string; visibility: string }>(
    await api(instance, 'POST', '/api/v1/discussions/groups', auth, body),
    201,
  );
}

describe('member sign-in by emailed link', () => {
  it('sends a single-use link valid 30 minutes, stored hashed; opening it changes nothing, confirming signs in', async () => {
    const email = 'Camille.Martin@Example.org';
    await json(await api(instance, 'POST', '/api/v1/discussions/sign-in', undefined, { email }), 202);
    const link = await signInLinkIn(sink, 'camille.martin@example.org', 1);
    const token = tokenOf(link);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    const row = await instance.ctx.db
      .selectFrom('discussion_sign_in_tokens')
      .selectAll()
      .where('email', '=', 'camille.martin@example.org')
      .executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(sha256Hex(token));
    expect(JSON.stringify(row)).not.toContain(token);
    const minutes = (new Date(row.expires_at).getTime() - new Date(row.created_at).getTime()) / 60_000;
    expect(Math.round(minutes)).toBe(30);

    // A GET (a mail scanner opening the link) neither signs in nor uses the link.
    const opened = await fetch(link, { redirect: 'manual' });
    expect(opened.headers.getSetCookie().join(';')).not.toContain('amap_member=');
    const again = await fetch(link, { redirect: 'manual' });
    expect(again.status).toBe(200);

    // A form posted from another site cannot confirm (JSON only).
    const form = await fetch(`${instance.url}/api/v1/discussions/sign-in/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${token}`,
    });
    expect(form.status).toBe(415);

    const confirmed = await api(instance, 'POST', '/api/v1/discussions/sign-in/confirm', undefined, { token, displayName: 'Camille' });
    const body = await json<{ member: { handle: string; displayName: string }; csrfToken: string }>(confirmed, 200);
    expect(body.member.displayName).toBe('Camille');
    expect(body.member.handle).toMatch(/^camille@127\.0\.0\.1:\d+$/);
    const cookie = confirmed.headers.getSetCookie().find((c) => c.startsWith('amap_member='))!;
    expect(cookie).toMatch(/HttpOnly/i);

    // Used once: the second confirmation is refused.
    await json(await api(instance, 'POST', '/api/v1/discussions/sign-in/confirm', undefined, { token }), 410);

    const session: MemberSession = { cookie: cookie.split(';')[0]!.split('=')[1]!, csrf: body.csrfToken, id: '', actor: '', handle: '' };
    const me = await json<{ displayName: string }>(await api(instance, 'GET', '/api/v1/discussions/me', { session }), 200);
    expect(me.displayName).toBe('Camille');
    // State-changing requests of a member session need the CSRF token.
    const noCsrf = await fetch(`${instance.url}/api/v1/discussions/me`, {
      method: 'PATCH',
      headers: { cookie: `amap_member=${session.cookie}`, 'content-type': 'application/json' },
      body: JSON.stringify({ displayName: 'X' }),
    });
    expect(noCsrf.status).toBe(403);
    expect((await noCsrf.json()).error.code).toBe('csrf_failed');
  });

  it('refuses an expired link', async () => {
    const email = 'expire@example.org';
    await json(await api(instance, 'POST', '/api/v1/discussions/sign-in', undefined, { email }), 202);
    const token = tokenOf(await signInLinkIn(sink, email, 1));
    await instance.ctx.db
      .updateTable('discussion_sign_in_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('email', '=', email)
      .execute();
    await json(await api(instance, 'POST', '/api/v1/discussions/sign-in/confirm', undefined, { token }), 410);
  });

  it('stops an email storm: at most 5 links an hour for one address (429 after)', async () => {
    const email = 'storm@example.org';
    for (let i = 0; i < 5; i++) await json(await api(instance, 'POST', '/api/v1/discussions/sign-in', undefined, { email }), 202);
    const refused = await api(instance, 'POST', '/api/v1/discussions/sign-in', undefined, { email });
    expect(refused.status).toBe(429);
    await sink.waitFor(sink.count); // nothing pending
    await new Promise((r) => setTimeout(r, 300));
    expect(messagesTo(sink, email).length).toBeLessThanOrEqual(5);
    await json(await api(instance, 'POST', '/api/v1/discussions/sign-in', undefined, { email: 'not an address' }), 400);
  });
});

describe('groups, posts and the bad inputs', () => {
  let open: { id: string };
  let closed: { id: string };
  let alice: MemberSession;
  let bob: MemberSession;

  beforeAll(async () => {
    open = await createGroup({ name: 'Semences paysannes', username: 'semences', summary: 'Échanges de semences' });
    closed = await createGroup({ name: 'Groupe de travail RGPD', username: 'gt_rgpd', visibility: 'members', joinPolicy: 'open' }, editor);
    alice = await signIn(instance, sink, 'alice@example.org', 'Alice');
    bob = await signIn(instance, sink, 'bob@example.org', 'Bob');
  }, 60_000);

  it('lets staff create groups with unique usernames; others may not', async () => {
    await json(await api(instance, 'POST', '/api/v1/discussions/groups', admin, { name: 'x', username: 'semences' }), 409);
    await json(await api(instance, 'POST', '/api/v1/discussions/groups', admin, { name: 'x', username: 'reseau' }), 409);
    await json(await api(instance, 'POST', '/api/v1/discussions/groups', admin, { name: 'x', username: 'Bad Name' }), 400);
    await json(await api(instance, 'POST', '/api/v1/discussions/groups', undefined, { name: 'x', username: 'anon' }), 401);
    await json(await api(instance, 'POST', '/api/v1/discussions/groups', { session: alice }, { name: 'x', username: 'alice_g' }), 401);
    const list = await json<{ items: Array<{ username: string }> }>(await api(instance, 'GET', '/api/v1/discussions/groups'), 200);
    expect(list.items.map((g) => g.username)).toEqual(expect.arrayContaining(['semences', 'gt_rgpd']));
    const spec = await (await fetch(`${instance.url}/api/openapi.json`)).json();
    expect(spec.paths['/api/v1/discussions/groups/{id}/posts'].post.tags).toEqual(['discussions']);
  });

  it('refuses a non-member posting to a members-only group (403) and hides its threads', async () => {
    const refused = await api(
      instance,
      'POST',
      `/api/v1/discussions/groups/${closed.id}/posts`,
      { session: bob },
      { title: 'Intrus', body: 'Je ne suis pas membre' },
    );
    expect(refused.status).toBe(403);
    await json(await api(instance, 'POST', `/api/v1/discussions/groups/${closed.id}/join`, { session: alice }), 200);
    const post = await json<{ id: string; visibility: string }>(
      await api(
        instance,
        'POST',
        `/api/v1/discussions/groups/${closed.id}/posts`,
        { session: alice },
        { title: 'Registre', body: 'Le registre des traitements #registre' },
      ),
      201,
    );
    expect(post.visibility).toBe('members');
    expect((await api(instance, 'GET', `/api/v1/discussions/groups/${closed.id}/threads`)).status).toBe(401);
    expect((await api(instance, 'GET', `/api/v1/discussions/groups/${closed.id}/threads`, { session: bob })).status).toBe(403);
    expect((await api(instance, 'GET', `/api/v1/discussions/posts/${post.id}`, { session: bob })).status).toBe(403);
    const seen = await json<{ items: Array<{ id: string }> }>(
      await api(instance, 'GET', `/api/v1/discussions/groups/${closed.id}/threads`, { session: alice }),
      200,
    );
    expect(seen.items.map((p) => p.id)).toEqual([post.id]);
    expect(
      (await api(instance, 'POST', `/api/v1/discussions/posts/${post.id}/replies`, { session: bob }, { body: 'moi aussi' })).status,
    ).toBe(403);
  });

  it('answers 404 to a reply to a post that does not exist', async () => {
    const response = await api(
      instance,
      'POST',
      `/api/v1/discussions/posts/${crypto.randomUUID()}/replies`,
      { session: alice },
      { body: 'Réponse' },
    );
    expect(response.status).toBe(404);
  });

  it('posts, replies and threads in a public group; mentions and tags are parsed and linked', async () => {
    await json(await api(instance, 'POST', `/api/v1/discussions/groups/${open.id}/join`, { session: alice }), 200);
    await json(await api(instance, 'POST', `/api/v1/discussions/groups/${open.id}/join`, { session: bob }), 200);
    const first = await json<{ id: string; threadId: string; tags: string[]; mentions: string[]; contentHtml: string }>(
      await api(
        instance,
        'POST',
        `/api/v1/discussions/groups/${open.id}/posts`,
        { session: alice },
        { title: 'Tomates', body: 'Qui a des graines ? #Tomates @bob@autre.example' },
      ),
      201,
    );
    expect(first.threadId).toBe(first.id);
    expect(first.tags).toEqual(['tomates']);
    expect(first.mentions).toEqual(['bob@autre.example']);
    expect(first.contentHtml).toContain('href="https://autre.example/@bob"');
    const reply = await json<{ id: string; depth: number; inReplyTo: string; threadId: string }>(
      await api(instance, 'POST', `/api/v1/discussions/posts/${first.id}/replies`, { session: bob }, { body: 'Moi !' }),
      201,
    );
    expect(reply.depth).toBe(1);
    expect(reply.threadId).toBe(first.id);
    const thread = await json<{ items: Array<{ id: string; replyCount: number }> }>(
      await api(instance, 'GET', `/api/v1/discussions/posts/${first.id}/thread`),
      200,
    );
    expect(thread.items.map((p) => p.id)).toEqual([first.id, reply.id]);
    expect(thread.items[0]!.replyCount).toBe(1);
    const tagged = await json<{ items: Array<{ id: string }> }>(await api(instance, 'GET', '/api/v1/discussions/tags/Tomates'), 200);
    expect(tagged.items.map((p) => p.id)).toEqual([first.id]);
    // A members-only post never shows outside its group, not even by its tag.
    const hidden = await json<{ items: unknown[] }>(await api(instance, 'GET', '/api/v1/discussions/tags/registre'), 200);
    expect(hidden.items).toEqual([]);
    // Only its author edits a post.
    expect((await api(instance, 'PATCH', `/api/v1/discussions/posts/${first.id}`, { session: bob }, { body: 'pirate' })).status).toBe(403);
  });

  it('emails a member mentioned in a post they may read (a link, not the text); never outside a members-only group', async () => {
    const aliceMails = messagesTo(sink, 'alice@example.org').length;
    const bobMails = messagesTo(sink, 'bob@example.org').length;
    // Bob is not in the members-only group: a mention there is not announced to him.
    await json(
      await api(
        instance,
        'POST',
        `/api/v1/discussions/groups/${closed.id}/posts`,
        { session: alice },
        { body: `Confidentiel, @${bob.handle} ne doit pas le savoir` },
      ),
      201,
    );
    const forAlice = await json<{ id: string }>(
      await api(
        instance,
        'POST',
        `/api/v1/discussions/groups/${open.id}/posts`,
        { session: bob },
        { body: `Voir avec @${alice.handle} pour les semis-secrets` },
      ),
      201,
    );
    const forBob = await json<{ id: string }>(
      await api(
        instance,
        'POST',
        `/api/v1/discussions/groups/${open.id}/posts`,
        { session: alice },
        { body: `D’accord @${bob.handle.split('@')[0]}` },
      ),
      201,
    );
    const until = Date.now() + 20_000;
    while (messagesTo(sink, 'alice@example.org').length <= aliceMails || messagesTo(sink, 'bob@example.org').length <= bobMails) {
      if (Date.now() > until) throw new Error('no mention email');
      await new Promise((r) => setTimeout(r, 25));
    }
    await new Promise((r) => setTimeout(r, 500)); // would a second one for Bob come?
    const toAlice = await parseMail(messagesTo(sink, 'alice@example.org').at(-1)!);
    expect(toAlice.subject).toContain('Bob');
    expect(toAlice.text).toContain(`/discussions/posts/${forAlice.id}`);
    expect(toAlice.text).not.toContain('semis-secrets');
    const bobMentions = messagesTo(sink, 'bob@example.org').slice(bobMails);
    expect(bobMentions).toHaveLength(1);
    expect((await parseMail(bobMentions[0]!)).text).toContain(`/discussions/posts/${forBob.id}`);
  });

  it('sanitizes script and tracking images out of posts', async () => {
    const post = await json<{ contentHtml: string }>(
      await api(
        instance,
        'POST',
        `/api/v1/discussions/groups/${open.id}/posts`,
        { session: bob },
        {
          title: 'Piège',
          body: '<script>alert(1)</script>Bonjour<img src="https://tracker.example/pixel.gif" width="1" height="1"> <a href="javascript:alert(2)" onclick="steal()">clic</a> <iframe src="https://evil.example"></iframe>',
        },
      ),
      201,
    );
    expect(post.contentHtml).toContain('Bonjour');
    expect(post.contentHtml).not.toMatch(/<script|<img|<iframe|javascript:|onclick|alert\(1\)/i);
  });

  it('limits posts per member: 429 after 10 a minute', async () => {
    const carol = await signIn(instance, sink, 'carol@example.org', 'Carol');
    await json(await api(instance, 'POST', `/api/v1/discussions/groups/${open.id}/join`, { session: carol }), 200);
    const statuses: number[] = [];
    // Windows are fixed minutes: the first 10 always pass, a 429 comes by the 21st at the latest.
    for (let i = 0; i < 21; i++) {
      const status = (
        await api(instance, 'POST', `/api/v1/discussions/groups/${open.id}/posts`, { session: carol }, { body: `Message ${i}` })
      ).status;
      statuses.push(status);
      if (status !== 201) break;
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(201));
    expect(statuses.at(-1)).toBe(429);
    const again = await api(instance, 'POST', `/api/v1/discussions/groups/${open.id}/posts`, { session: carol }, { body: 'encore' });
    expect(again.status).toBe(429);
    expect((await again.json()).error.code).toBe('rate_limited');
  });

  it('keeps a banned member out (403), logs who banned them and why', async () => {
    const dan = await signIn(instance, sink, 'dan@example.org', 'Dan');
    await json(await api(instance, 'POST', `/api/v1/discussions/groups/${open.id}/join`, { session: dan }), 200);
    // A member who is not a moderator may not ban.
    expect(
      (
        await api(
          instance,
          'POST',
          '/api/v1/discussions/moderation/bans',
          { session: alice },
          { actor: dan.actor, groupId: open.id, reason: 'x' },
        )
      ).status,
    ).toBe(403);
    await json(
      await api(instance, 'POST', '/api/v1/discussions/moderation/bans', admin, {
        actor: dan.actor,
        groupId: open.id,
        reason: 'Messages répétés hors sujet',
      }),
      204,
    );
    const membership = await instance.ctx.db
      .selectFrom('discussion_memberships')
      .selectAll()
      .where('group_id', '=', open.id)
      .where('actor_ap_id', '=', dan.actor)
      .executeTakeFirstOrThrow();
    expect(membership).toMatchObject({ status: 'banned', member_id: dan.id });
    const refused = await api(instance, 'POST', `/api/v1/discussions/groups/${open.id}/posts`, { session: dan }, { body: 'Encore moi' });
    expect(refused.status).toBe(403);
    // Leaving and joining again does not lift the ban.
    await api(instance, 'POST', `/api/v1/discussions/groups/${open.id}/leave`, { session: dan });
    expect((await api(instance, 'POST', `/api/v1/discussions/groups/${open.id}/join`, { session: dan })).status).toBe(403);
    const log = await json<{ items: Array<{ action: string; target: string; reason: string; moderator: string }> }>(
      await api(instance, 'GET', `/api/v1/discussions/moderation/log?groupId=${open.id}`, admin),
      200,
    );
    expect(log.items).toContainEqual(expect.objectContaining({ action: 'ban', target: dan.actor, reason: 'Messages répétés hors sujet' }));
  });

  it('pages through a very long thread in reading order', async () => {
    const root = await json<{ id: string; apId: string }>(
      await api(instance, 'POST', `/api/v1/discussions/groups/${open.id}/posts`, { session: alice }, { title: 'Long fil', body: 'Début' }),
      201,
    );
    // 300 replies written straight to the table (the API would rate-limit us): each answers the
    // root or the reply before it, so that the order of reading is a real tree.
    const db = instance.ctx.db;
    let parent = { id: root.id, apId: root.apId, depth: 0 };
    const start = Date.now();
    for (let i = 0; i < 300; i++) {
      const id = crypto.randomUUID();
      const apId = `${instance.url}/discussions/posts/${id}`;
      const under = i % 3 === 0 ? { id: root.id, apId: root.apId, depth: 0 } : parent;
      await insertPost(db, {
        id,
        ap_id: apId,
        url: apId,
        origin: 'local',
        author_ap_id: alice.actor,
        author_name: 'Alice',
        author_handle: alice.handle,
        group_id: open.id,
        in_reply_to: under.apId,
        thread_id: root.id,
        depth: Math.min(under.depth + 1, 8),
        content_html: `<p>Réponse ${i}</p>`,
        content_text: `Réponse ${i}`,
        published_at: new Date(start + i * 1000),
      });
      parent = { id, apId, depth: Math.min(under.depth + 1, 8) };
    }
    const seen: Array<{ id: string; apId: string; inReplyTo: string | null }> = [];
    let page = 1;
    for (;;) {
      const body = await json<{ items: typeof seen; hasMore: boolean; total: number }>(
        await api(instance, 'GET', `/api/v1/discussions/posts/${root.id}/thread?page=${page}&limit=100`),
        200,
      );
      expect(body.items.length).toBeLessThanOrEqual(100);
      expect(body.total).toBe(301);
      seen.push(...body.items);
      if (!body.hasMore) break;
      page++;
    }
    expect(page).toBe(4);
    expect(seen).toHaveLength(301);
    expect(new Set(seen.map((p) => p.id)).size).toBe(301);
    const position = new Map(seen.map((p, i) => [p.apId, i]));
    for (const [i, p] of seen.entries()) if (p.inReplyTo) expect(position.get(p.inReplyTo)!).toBeLessThan(i);
    expect((await api(instance, 'GET', `/api/v1/discussions/posts/${root.id}/thread?limit=1000`)).status).toBe(400);
  });

  it('lets anyone signed in report a post, and a moderator remove it (logged, Delete published)', async () => {
    const post = await json<{ id: string; apId: string }>(
      await api(instance, 'POST', `/api/v1/discussions/groups/${open.id}/posts`, { session: bob }, { body: 'Publicité' }),
      201,
    );
    expect((await api(instance, 'POST', `/api/v1/discussions/posts/${post.id}/reports`, undefined, { reason: 'spam' })).status).toBe(401);
    const report = await json<{ id: string; reporter: string }>(
      await api(instance, 'POST', `/api/v1/discussions/posts/${post.id}/reports`, { session: alice }, { reason: 'Publicité' }),
      201,
    );
    expect(report.reporter).toBe(alice.actor);
    expect((await api(instance, 'DELETE', `/api/v1/discussions/posts/${post.id}?reason=spam`, { session: alice })).status).toBe(403);
    const removed = await json<{ status: string; contentHtml: string }>(
      await api(instance, 'DELETE', `/api/v1/discussions/posts/${post.id}?reason=Publicit%C3%A9`, admin),
      200,
    );
    expect(removed).toMatchObject({ status: 'removed', contentHtml: '' });
    const row = await instance.ctx.db.selectFrom('discussion_posts').selectAll().where('id', '=', post.id).executeTakeFirstOrThrow();
    expect(row.content_html + row.content_text).toBe('');
    expect(removedEvents).toContainEqual({ postId: post.id, apId: post.apId, byModerator: true });
    const log = await json<{ items: Array<{ action: string; target: string }> }>(
      await api(instance, 'GET', '/api/v1/discussions/moderation/log', admin),
      200,
    );
    expect(log.items).toContainEqual(expect.objectContaining({ action: 'remove_post', target: post.apId }));
  });

  it('comments under an announcement', async () => {
    const announcement = await json<{ id: string; apId: string }>(
      await api(instance, 'POST', '/api/v1/announcements', editor, { title: 'Fête des AMAP', body: 'Samedi', status: 'published' }),
      201,
    );
    const comment = await json<{ id: string; inReplyTo: string; announcementId: string }>(
      await api(instance, 'POST', '/api/v1/discussions/comments', { session: bob }, { announcementId: announcement.id, body: 'J’y serai' }),
      201,
    );
    expect(comment.inReplyTo).toBe(announcement.apId);
    const list = await json<{ items: Array<{ id: string }> }>(
      await api(instance, 'GET', `/api/v1/discussions/comments?announcementId=${announcement.id}`),
      200,
    );
    expect(list.items.map((c) => c.id)).toEqual([comment.id]);
    expect(
      (await api(instance, 'POST', '/api/v1/discussions/comments', { session: bob }, { announcementId: crypto.randomUUID(), body: 'x' }))
        .status,
    ).toBe(404);
  });
});

describe('group moderators and joining with approval', () => {
  it('lets a group moderator decide memberships and remove posts in their group only', async () => {
    const group = await createGroup({ name: 'Paysans boulangers', username: 'boulange', joinPolicy: 'approval' });
    const other = await createGroup({ name: 'Autre', username: 'autre_groupe' });
    const mod = await signIn(instance, sink, 'mod@example.org', 'Modo');
    const newcomer = await signIn(instance, sink, 'newcomer@example.org', 'Nouveau');
    const asked = await json<{ status: string }>(
      await api(instance, 'POST', `/api/v1/discussions/groups/${group.id}/join`, { session: mod }),
      200,
    );
    expect(asked.status).toBe('pending');
    expect((await api(instance, 'POST', `/api/v1/discussions/groups/${group.id}/posts`, { session: mod }, { body: 'x' })).status).toBe(403);
    await json(
      await api(instance, 'POST', `/api/v1/discussions/groups/${group.id}/members/decision`, admin, { actor: mod.actor, accept: true }),
      204,
    );
    await json(
      await api(instance, 'POST', `/api/v1/discussions/groups/${group.id}/moderators`, admin, { actor: mod.actor, moderator: true }),
      204,
    );

    await json(await api(instance, 'POST', `/api/v1/discussions/groups/${group.id}/join`, { session: newcomer }), 200);
    const pending = await json<{ items: Array<{ actor: string; status: string }> }>(
      await api(instance, 'GET', `/api/v1/discussions/groups/${group.id}/members?status=pending`, { session: mod }),
      200,
    );
    expect(pending.items).toEqual([expect.objectContaining({ actor: newcomer.actor, status: 'pending' })]);
    expect((await api(instance, 'GET', `/api/v1/discussions/groups/${group.id}/members`, { session: newcomer })).status).toBe(403);
    await json(
      await api(
        instance,
        'POST',
        `/api/v1/discussions/groups/${group.id}/members/decision`,
        { session: mod },
        { actor: newcomer.actor, accept: true, reason: 'bienvenue' },
      ),
      204,
    );
    const post = await json<{ id: string }>(
      await api(instance, 'POST', `/api/v1/discussions/groups/${group.id}/posts`, { session: newcomer }, { body: 'Bonjour' }),
      201,
    );
    expect((await api(instance, 'DELETE', `/api/v1/discussions/posts/${post.id}`, { session: mod })).status).toBe(400);
    const removed = await json<{ status: string }>(
      await api(instance, 'DELETE', `/api/v1/discussions/posts/${post.id}?reason=hors%20sujet`, { session: mod }),
      200,
    );
    expect(removed.status).toBe('removed');

    // Not a moderator of another group.
    await json(await api(instance, 'POST', `/api/v1/discussions/groups/${other.id}/join`, { session: newcomer }), 200);
    const elsewhere = await json<{ id: string }>(
      await api(instance, 'POST', `/api/v1/discussions/groups/${other.id}/posts`, { session: newcomer }, { body: 'Ailleurs' }),
      201,
    );
    expect((await api(instance, 'DELETE', `/api/v1/discussions/posts/${elsewhere.id}?reason=x`, { session: mod })).status).toBe(403);

    const log = await json<{ items: Array<{ action: string; moderator: string; reason: string }> }>(
      await api(instance, 'GET', `/api/v1/discussions/moderation/log?groupId=${group.id}`, { session: mod }),
      200,
    );
    expect(log.items.map((l) => l.action)).toEqual(expect.arrayContaining(['accept_member', 'add_moderator', 'remove_post']));
    expect(log.items).toContainEqual(expect.objectContaining({ action: 'remove_post', moderator: mod.actor, reason: 'hors sujet' }));
  });
});

describe('my data: export and erasure', () => {
  it('exports profile, memberships and posts as JSON, then erases the member and takes their posts down', async () => {
    const group = await createGroup({ name: 'Maraîchage', username: 'maraichage' });
    const eve = await signIn(instance, sink, 'eve@example.org', 'Ève');
    await json(await api(instance, 'POST', `/api/v1/discussions/groups/${group.id}/join`, { session: eve }), 200);
    const post = await json<{ id: string; apId: string }>(
      await api(
        instance,
        'POST',
        `/api/v1/discussions/groups/${group.id}/posts`,
        { session: eve },
        { title: 'Serres', body: 'Nos serres #maraichage' },
      ),
      201,
    );
    const exported = await api(instance, 'GET', '/api/v1/discussions/me/export', { session: eve });
    expect(exported.headers.get('content-disposition')).toContain('attachment');
    const data = await json<{
      profile: { email: string; displayName: string };
      memberships: Array<{ groupName: string }>;
      posts: Array<{ id: string; contentText: string }>;
    }>(exported, 200);
    expect(data.profile).toMatchObject({ email: 'eve@example.org', displayName: 'Ève' });
    expect(data.memberships.map((m) => m.groupName)).toEqual(['Maraîchage']);
    expect(data.posts).toEqual([expect.objectContaining({ id: post.id, contentText: 'Nos serres #maraichage' })]);

    const erased = await json<{ removedPosts: number }>(await api(instance, 'DELETE', '/api/v1/discussions/me', { session: eve }), 200);
    expect(erased.removedPosts).toBe(1);
    const db = instance.ctx.db;
    expect(
      await db.selectFrom('discussion_members').select('id').where('email', '=', 'eve@example.org').executeTakeFirst(),
    ).toBeUndefined();
    expect(await db.selectFrom('discussion_sessions').select('id_hash').where('member_id', '=', eve.id).executeTakeFirst()).toBeUndefined();
    expect(
      await db.selectFrom('discussion_memberships').select('id').where('actor_ap_id', '=', eve.actor).executeTakeFirst(),
    ).toBeUndefined();
    const row = await db.selectFrom('discussion_posts').selectAll().where('id', '=', post.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: 'removed',
      content_html: '',
      content_text: '',
      author_name: 'ancien membre',
      author_member_id: null,
    });
    expect(removedEvents).toContainEqual({ postId: post.id, apId: post.apId, byModerator: false });
    expect((await api(instance, 'GET', '/api/v1/discussions/me', { session: eve })).status).toBe(401);
  });
});
