// Posts received from other servers, as federation hands them to the domain (storeRemotePost):
// replies to announcements and to posts, posts to groups, and the bad inputs of the issue: a
// reply to nothing, a non-member writing to a members-only group, a flood from one server, a
// banned actor coming back under another actor of the same server, hostile HTML; and the
// setting that holds comments from servers not yet trusted until a moderator approves them.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdUntrusted } from '../../server/discussions/discussions.settings.ts';
import { upsertMembership } from '../../server/discussions/memberships.repository.ts';
import { type RemotePostInput, storeRemotePost } from '../../server/discussions/posts.service.ts';
import { upsertFollower } from '../../server/federation/federation.repository.ts';
import { createUserWithToken } from '../helpers/accounts.ts';
import { api, json } from '../helpers/discussions.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';

let instance: TestInstance;
let admin: { token: string };
let editor: { token: string };
const created: string[] = [];
const approved: string[] = [];

beforeAll(async () => {
  instance = await startTestInstance();
  admin = { token: (await createUserWithToken(instance.ctx, 'admin')).token };
  editor = { token: (await createUserWithToken(instance.ctx, 'editor')).token };
  instance.ctx.events.on('discussion.post.created', async ({ postId }) => void created.push(postId));
  instance.ctx.events.on('discussion.post.approved', async ({ postId }) => void approved.push(postId));
}, 60_000);

afterAll(async () => {
  await instance?.destroy();
});

function note(host: string, overrides: Partial<RemotePostInput> = {}): RemotePostInput {
  const id = crypto.randomUUID();
  const author = overrides.authorApId ?? `https://${host}/users/alice`;
  return {
    apId: `https://${host}/notes/${id}`,
    url: `https://${host}/@alice/${id}`,
    authorApId: author,
    authorName: 'Alice distante',
    authorHandle: `alice@${host}`,
    contentHtml: '<p>Bonjour</p>',
    tags: [],
    mentions: [],
    publishedAt: new Date(),
    ...overrides,
  };
}

function store(input: RemotePostInput) {
  return instance.ctx.db.transaction().execute((trx) => storeRemotePost(instance.ctx, trx, input));
}

async function announcement(): Promise<{ id: string; apId: string }> {
  return json(
    await api(instance, 'POST', '/api/v1/announcements', editor, {
      title: `Annonce ${crypto.randomUUID()}`,
      body: 'Texte',
      status: 'published',
    }),
    201,
  );
}

describe('replies from other servers', () => {
  it('stores a reply to an announcement as a comment, sanitized, and a reply to it in the same thread', async () => {
    const a = await announcement();
    const first = await store(
      note('mastodon.example', {
        inReplyTo: a.apId,
        contentHtml: '<p>Super <script>alert(1)</script><img src="https://mastodon.example/track.gif"> <a href="/admin">ici</a></p>',
        tags: ['#AMAP', 'bad tag!'],
      }),
    );
    if (!('post' in first)) throw new Error(first.refused);
    expect(first.created).toBe(true);
    expect(first.post).toMatchObject({ announcement_id: a.id, depth: 0, status: 'visible', tags: ['amap'] });
    expect(first.post.thread_id).toBe(first.post.id);
    expect(first.post.content_html).not.toMatch(/<script|<img|href="\/admin"/);
    expect(created).toContain(first.post.id);

    const second = await store(note('other.example', { inReplyTo: first.post.ap_id }));
    if (!('post' in second)) throw new Error(second.refused);
    expect(second.post).toMatchObject({ announcement_id: a.id, depth: 1, thread_id: first.post.id });
    const list = await json<{ items: Array<{ id: string; replyCount: number }> }>(
      await api(instance, 'GET', `/api/v1/discussions/comments?announcementId=${a.id}`),
      200,
    );
    expect(list.items.map((c) => c.id)).toEqual([first.post.id, second.post.id]);
    expect(list.items[0]!.replyCount).toBe(1);

    // The same id again is an edit by its author; by anyone else it is refused.
    const edited = await store({
      ...note('mastodon.example'),
      apId: first.post.ap_id,
      authorApId: first.post.author_ap_id,
      contentHtml: '<p>Corrigé</p>',
    });
    expect('post' in edited && edited.post.content_text).toBe('Corrigé');
    expect(await store({ ...note('evil.example'), apId: first.post.ap_id, contentHtml: '<p>pris</p>' })).toEqual({
      refused: expect.any(String),
    });
  });

  it('refuses a reply to something that does not exist here', async () => {
    expect(await store(note('mastodon.example', { inReplyTo: 'https://nowhere.example/notes/1' }))).toEqual({
      refused: expect.stringContaining('does not exist'),
    });
    expect(await store(note('mastodon.example'))).toEqual({ refused: expect.any(String) });
  });

  it('refuses posts to a members-only group from non-members; accepts them from members', async () => {
    const group = await json<{ id: string; apId: string }>(
      await api(instance, 'POST', '/api/v1/discussions/groups', admin, { name: 'Fermé', username: 'ferme', visibility: 'members' }),
      201,
    );
    expect(await store(note('mastodon.example', { groupApId: group.apId }))).toEqual({ refused: expect.stringContaining('not a member') });
    const author = 'https://mastodon.example/users/membre';
    await upsertMembership(instance.ctx.db, { groupId: group.id, actorApId: author, inbox: `${author}/inbox`, status: 'accepted' });
    const ok = await store(note('mastodon.example', { groupApId: group.apId, authorApId: author, title: 'Sujet' }));
    if (!('post' in ok)) throw new Error(ok.refused);
    expect(ok.post).toMatchObject({ group_id: group.id, visibility: 'members', title: 'Sujet', status: 'visible' });
    // A reply by a non-member inside that group is refused too.
    expect(await store(note('mastodon.example', { inReplyTo: ok.post.ap_id }))).toEqual({
      refused: expect.stringContaining('not a member'),
    });
    // Nothing of it on public reads.
    expect((await api(instance, 'GET', `/api/v1/discussions/posts/${ok.post.id}`)).status).toBe(401);
    expect((await api(instance, 'GET', `/api/v1/discussions/groups/${group.id}/threads`)).status).toBe(401);
  });

  it('keeps a banned actor out, and with the server banned every actor of it, whatever path they take', async () => {
    const a = await announcement();
    const ban = async (body: Record<string, unknown>) =>
      json(await api(instance, 'POST', '/api/v1/discussions/moderation/bans', admin, body), 204);
    await ban({ actor: 'https://spam.example/users/bad', reason: 'spam' });
    expect(await store(note('spam.example', { inReplyTo: a.apId, authorApId: 'https://spam.example/users/bad' }))).toEqual({
      refused: 'the author is banned',
    });
    // Another actor of the same server still gets in until the server itself is banned.
    const other = await store(note('spam.example', { inReplyTo: a.apId, authorApId: 'https://spam.example/@bad2' }));
    expect('post' in other).toBe(true);
    await ban({ actor: 'https://spam.example/users/bad', wholeServer: true, reason: 'comptes multiples' });
    expect(await store(note('spam.example', { inReplyTo: a.apId, authorApId: 'https://spam.example/users/bad3' }))).toEqual({
      refused: 'the author is banned',
    });
    const bans = await json<{ items: Array<{ id: string; kind: string; value: string }> }>(
      await api(instance, 'GET', '/api/v1/discussions/moderation/bans', admin),
      200,
    );
    expect(bans.items).toContainEqual(expect.objectContaining({ kind: 'host', value: 'spam.example' }));
    // Lifting the server's ban lets its other actors in again; the banned actor stays out.
    const hostBan = bans.items.find((b) => b.kind === 'host')!;
    await json(await api(instance, 'DELETE', `/api/v1/discussions/moderation/bans/${hostBan.id}?reason=erreur`, admin), 204);
    expect('post' in (await store(note('spam.example', { inReplyTo: a.apId, authorApId: 'https://spam.example/users/bad4' })))).toBe(true);
    expect(await store(note('spam.example', { inReplyTo: a.apId, authorApId: 'https://spam.example/users/bad' }))).toEqual({
      refused: 'the author is banned',
    });
    const log = await json<{ items: Array<{ action: string; target: string }> }>(
      await api(instance, 'GET', '/api/v1/discussions/moderation/log', admin),
      200,
    );
    expect(log.items).toContainEqual(expect.objectContaining({ action: 'unban', target: 'spam.example' }));
  });

  it('limits posts per remote server to 60 a minute', async () => {
    const a = await announcement();
    const results = [];
    // Windows are fixed minutes: the first 60 always pass; a refusal comes by the 121st at the
    // latest (two windows), and then every later one in that window is refused as well.
    for (let i = 0; i < 121; i++) {
      const result = await store(note('flood.example', { inReplyTo: a.apId, authorApId: `https://flood.example/users/u${i}` }));
      results.push(result);
      if ('refused' in result) break;
    }
    expect(results.slice(0, 60).every((r) => 'post' in r)).toBe(true);
    expect(results.at(-1)).toEqual({ refused: 'too many posts from this server' });
    expect(await store(note('flood.example', { inReplyTo: a.apId }))).toEqual({ refused: 'too many posts from this server' });
    // Another server is not affected.
    expect('post' in (await store(note('calm.example', { inReplyTo: a.apId })))).toBe(true);
  });

  it('holds comments from untrusted servers when the setting is on, until a moderator approves them', async () => {
    const a = await announcement();
    expect(await holdUntrusted(instance.ctx.db)).toBe(false);
    await json(await api(instance, 'PUT', '/api/v1/discussions/settings', editor, { holdUntrusted: true }), 403);
    await json(await api(instance, 'PUT', '/api/v1/discussions/settings', admin, { holdUntrusted: true }), 200);

    const held = await store(note('unknown.example', { inReplyTo: a.apId }));
    if (!('post' in held)) throw new Error(held.refused);
    expect(held.post.status).toBe('held');
    expect(created).not.toContain(held.post.id);
    const publicList = await json<{ items: Array<{ id: string }> }>(
      await api(instance, 'GET', `/api/v1/discussions/comments?announcementId=${a.id}`),
      200,
    );
    expect(publicList.items).toEqual([]);
    expect((await api(instance, 'GET', `/api/v1/discussions/posts/${held.post.id}`)).status).toBe(404);

    // A server that follows us is trusted: its comment shows at once.
    await upsertFollower(
      instance.ctx.db,
      {
        id: 'https://friend.example/actor',
        handle: 'friend@friend.example',
        name: 'Ami',
        url: null,
        inbox: 'https://friend.example/inbox',
        sharedInbox: null,
      },
      'https://friend.example/follow/1',
      'accepted',
    );
    const trusted = await store(note('friend.example', { inReplyTo: a.apId }));
    expect('post' in trusted && trusted.post.status).toBe('visible');

    const queue = await json<{ items: Array<{ id: string }> }>(
      await api(instance, 'GET', '/api/v1/discussions/moderation/held', admin),
      200,
    );
    expect(queue.items.map((p) => p.id)).toContain(held.post.id);
    await json(await api(instance, 'POST', `/api/v1/discussions/posts/${held.post.id}/approve`, editor, {}), 403);
    const ok = await json<{ status: string }>(
      await api(instance, 'POST', `/api/v1/discussions/posts/${held.post.id}/approve`, admin, { reason: 'pertinent' }),
      200,
    );
    expect(ok.status).toBe('visible');
    expect(approved).toContain(held.post.id);
    const after = await json<{ items: Array<{ id: string }> }>(
      await api(instance, 'GET', `/api/v1/discussions/comments?announcementId=${a.id}`),
      200,
    );
    expect(after.items.map((c) => c.id)).toEqual(expect.arrayContaining([held.post.id, (trusted as { post: { id: string } }).post.id]));
    const log = await json<{ items: Array<{ action: string; reason: string }> }>(
      await api(instance, 'GET', '/api/v1/discussions/moderation/log', admin),
      200,
    );
    expect(log.items).toContainEqual(expect.objectContaining({ action: 'approve_post', reason: 'pertinent' }));
    await json(await api(instance, 'PUT', '/api/v1/discussions/settings', admin, { holdUntrusted: false }), 200);
  });
});
