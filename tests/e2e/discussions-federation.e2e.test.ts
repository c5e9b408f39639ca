// Discussions across three real instances on 127.0.0.1 (FEP-1b12): groups on `aura`, members on
// `idf` and `bzh`. Joining is a Follow accepted by the group; a post reaches the group and is
// relayed (Announce) to the other members; replies flow back; a members-only group's content
// is never served to an outsider; a moderator's removal and a report (Flag) cross instances.
// Every step waits (polling) for the other side; negative checks wait until the queues are idle.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGroupByApId, findGroupById, type GroupRow, insertLocalGroup } from '../../server/discussions/groups.repository.ts';
import { closeGroup, updateGroup } from '../../server/discussions/groups.service.ts';
import { createLocalActor } from '../../server/discussions/local-actors.repository.ts';
import { createMember, type MemberRow } from '../../server/discussions/members.repository.ts';
import { findMembership, upsertMembership } from '../../server/discussions/memberships.repository.ts';
import { decideMembership, leaveGroup } from '../../server/discussions/memberships.service.ts';
import { reportPost } from '../../server/discussions/moderation.service.ts';
import { findPostByApId, type PostRow } from '../../server/discussions/posts.repository.ts';
import { createLocalPost, removePost } from '../../server/discussions/posts.service.ts';
import { DELIVER_QUEUE, deliveryJobId, enqueueToInbox } from '../../server/federation/delivery.ts';
import { signedGet } from '../../server/federation/discussions-fetch.ts';
import { joinRemoteGroup } from '../../server/federation/discussions-join.ts';
import { federationOf } from '../../server/federation/federation.module.ts';
import { FEDIFY_QUEUE } from '../../server/federation/fedify-queue.ts';
import { follow, jobsOf, type Network, publish, queueIdle, startNetwork, storedAnnouncement, waitFor } from '../helpers/federation.ts';

const AP = { accept: 'application/activity+json' };

async function member(net: Network, name: string): Promise<MemberRow> {
  return createMember(net.ctx.db, { email: `${crypto.randomUUID()}@example.org`, displayName: name, instanceHandle: net.handle });
}

const personId = (net: Network, m: MemberRow) => `${net.url}/ap/actors/${m.username}`;

async function localGroup(
  net: Network,
  username: string,
  visibility: 'public' | 'members',
  moderator: MemberRow,
  joinPolicy: 'open' | 'approval' = 'open',
): Promise<GroupRow> {
  return net.ctx.db.transaction().execute(async (trx) => {
    const actor = await createLocalActor(trx, { username, kind: 'group' });
    const host = new URL(net.url).host;
    const id = await insertLocalGroup(trx, {
      actorId: actor.id,
      apId: `${net.url}/ap/actors/${username}`,
      handle: `${username}@${host}`,
      name: `Groupe ${username}`,
      summary: 'Un groupe de travail',
      visibility,
      joinPolicy,
    });
    await upsertMembership(trx, {
      groupId: id,
      actorApId: personId(net, moderator),
      memberId: moderator.id,
      role: 'moderator',
      status: 'accepted',
    });
    return (await findGroupById(trx, id)) as GroupRow;
  });
}

/** `m` of `net` joins the group `group` of `host` and waits until the group accepted. */
async function join(net: Network, m: MemberRow, group: GroupRow): Promise<GroupRow> {
  const { group: remote } = await joinRemoteGroup(net.ctx, m, group.handle);
  await waitFor(async () => (await findMembership(net.ctx.db, remote.id, personId(net, m)))?.status === 'accepted', {
    what: `${m.username}@${net.handle} accepted in ${group.handle}`,
  });
  return remote;
}

const post = (net: Network, input: Parameters<typeof createLocalPost>[2]) =>
  net.ctx.db.transaction().execute((trx) => createLocalPost(net.ctx, trx, input));

const stored = (net: Network, apId: string) => findPostByApId(net.ctx.db, apId);

/** Delivers a hand-made activity from `from`, signed by its local actor `signer`, and waits until it was posted. */
async function deliverRaw(from: Network, inbox: string, activity: { id: string }, signer: string): Promise<void> {
  const rt = federationOf(from.ctx)!.rt;
  await from.ctx.db.transaction().execute((trx) => enqueueToInbox(rt, trx, inbox, activity, signer));
  const jobId = deliveryJobId(activity.id, inbox);
  await waitFor(async () => (await jobsOf(from.ctx, DELIVER_QUEUE)).find((j) => j.id === jobId)?.state === 'completed', {
    what: `delivered to ${inbox}`,
  });
}

const AS = 'https://www.w3.org/ns/activitystreams';

/** Waits until `net` delivered everything and processed everything it received. */
async function settled(...nets: Network[]): Promise<void> {
  for (let round = 0; round < 2; round++) {
    for (const net of nets) {
      await waitFor(async () => (await queueIdle(net.ctx, DELIVER_QUEUE)) && (await queueIdle(net.ctx, FEDIFY_QUEUE)), {
        what: `${net.handle} idle`,
      });
    }
  }
}

describe('discussions across instances (FEP-1b12)', () => {
  let aura: Network;
  let idf: Network;
  let bzh: Network;
  let alice: MemberRow;
  let bob: MemberRow;
  let chloe: MemberRow;
  let gt: GroupRow;
  let bureau: GroupRow;
  let gtOnIdf: GroupRow;
  let gtOnBzh: GroupRow;

  beforeAll(async () => {
    aura = await startNetwork('aura');
    idf = await startNetwork('idf');
    bzh = await startNetwork('bzh');
    alice = await member(aura, 'Alice');
    bob = await member(idf, 'Bob');
    chloe = await member(bzh, 'Chloe');
    gt = await localGroup(aura, 'gt_rgpd', 'public', alice);
    bureau = await localGroup(aura, 'bureau', 'members', alice);
  }, 240_000);

  afterAll(async () => {
    await Promise.all([aura?.destroy(), idf?.destroy(), bzh?.destroy()]);
  });

  it('serves the group as a Group (moderators in attributedTo) and people as Person, by WebFinger', async () => {
    const wf = await fetch(`${aura.url}/.well-known/webfinger?resource=acct:${gt.handle}`);
    expect(wf.status).toBe(200);
    const group = (await (await fetch(gt.ap_id, { headers: AP })).json()) as Record<string, any>;
    expect(group.type).toBe('Group');
    expect(group.preferredUsername).toBe('gt_rgpd');
    expect([group.attributedTo].flat()).toEqual([personId(aura, alice)]);
    expect(group.followers).toBe(`${gt.ap_id}/followers`);
    expect(group.publicKey.id).toBe(`${gt.ap_id}#main-key`);
    const person = (await (await fetch(personId(idf, bob), { headers: AP })).json()) as Record<string, any>;
    expect(person.type).toBe('Person');
    expect(person.name).toBe('Bob');
    expect(JSON.stringify(person)).not.toContain('@example.org');
    // A members-only group does not list its members to strangers.
    const members = await fetch(`${bureau.ap_id}/followers`, { headers: AP });
    expect(members.status).toBeGreaterThanOrEqual(400);
  });

  it('joins by Follow: the group accepts, and lists its members as followers', async () => {
    gtOnIdf = await join(idf, bob, gt);
    gtOnBzh = await join(bzh, chloe, gt);
    expect(gtOnIdf.origin).toBe('remote');
    expect(gtOnIdf.visibility).toBe('public');
    const first = (await (await fetch(`${gt.ap_id}/followers?cursor=0`, { headers: AP })).json()) as { orderedItems: string[] };
    expect(first.orderedItems.sort()).toEqual([personId(aura, alice), personId(idf, bob), personId(bzh, chloe)].sort());
  });

  let bobsPost: PostRow;

  it('relays a post from idf to the group on aura and to bzh (Announce); a reply from bzh reaches idf', async () => {
    bobsPost = await post(idf, { member: bob, groupId: gtOnIdf.id, title: 'Registre des traitements', markdown: 'Qui a un **modèle** ?' });
    const onAura = await waitFor(() => stored(aura, bobsPost.ap_id), { what: 'post on aura' });
    expect(onAura.group_id).toBe(gt.id);
    expect(onAura.content_html).toContain('<strong>modèle</strong>');
    const onBzh = await waitFor(() => stored(bzh, bobsPost.ap_id), { what: 'post on bzh' });
    expect(onBzh.group_id).toBe(gtOnBzh.id);
    expect(onBzh.author_handle).toBe(`${bob.username}@${new URL(idf.url).host}`);
    // The Note names its group as audience.
    const note = (await (await fetch(bobsPost.ap_id, { headers: AP })).json()) as Record<string, any>;
    expect(note.type).toBe('Note');
    expect(note.audience).toBe(gt.ap_id);

    const reply = await post(bzh, { member: chloe, groupId: gtOnBzh.id, inReplyTo: bobsPost.ap_id, markdown: 'Oui, je vous l’envoie.' });
    const replyOnIdf = await waitFor(() => stored(idf, reply.ap_id), { what: 'reply on idf' });
    expect(replyOnIdf.in_reply_to).toBe(bobsPost.ap_id);
    expect(replyOnIdf.thread_id).toBe(bobsPost.id);
    expect(replyOnIdf.depth).toBe(1);
    await waitFor(() => stored(aura, reply.ap_id), { what: 'reply on aura' });
  });

  it('keeps a members-only group to its members: not served to anonymous or outsider fetches', async () => {
    const bureauOnIdf = await join(idf, bob, bureau);
    expect(bureauOnIdf.visibility).toBe('members');
    const secret = await post(aura, { member: alice, groupId: bureau.id, markdown: 'Ordre du jour confidentiel' });
    const onIdf = await waitFor(() => stored(idf, secret.ap_id), { what: 'members-only post on idf' });
    expect(onIdf.visibility).toBe('members');

    const anonymous = await fetch(secret.ap_id, { headers: AP });
    expect(anonymous.status).toBe(404);
    expect(await anonymous.text()).not.toContain('confidentiel');
    const page = await fetch(secret.ap_id);
    expect(await page.text()).not.toContain('confidentiel');
    const outsider = await signedGet(federationOf(bzh.ctx)!.rt, secret.ap_id);
    expect(outsider.status).toBe(404);
    const insider = await signedGet(federationOf(idf.ctx)!.rt, secret.ap_id);
    expect(insider.status).toBe(200);
    expect(await insider.text()).toContain('confidentiel');
    const members = await signedGet(federationOf(bzh.ctx)!.rt, `${bureau.ap_id}/followers?cursor=0`);
    expect(members.status).toBeGreaterThanOrEqual(400);

    // A member's post, served by the member's own server: the group's server may read it, not bzh.
    const bobs = await post(idf, { member: bob, groupId: bureauOnIdf.id, markdown: 'Compte rendu interne' });
    await waitFor(() => stored(aura, bobs.ap_id), { what: 'members-only post of idf on aura' });
    expect((await fetch(bobs.ap_id, { headers: AP })).status).toBe(404);
    expect((await signedGet(federationOf(bzh.ctx)!.rt, bobs.ap_id)).status).toBe(404);
    expect((await signedGet(federationOf(aura.ctx)!.rt, bobs.ap_id)).status).toBe(200);
    await settled(aura, idf, bzh);
    expect(await bzh.ctx.db.selectFrom('discussion_posts').select('id').where('visibility', '=', 'members').execute()).toEqual([]);
  });

  it('refuses a post to a members-only group from a non-member', async () => {
    const rt = federationOf(bzh.ctx)!.rt;
    const actor = personId(bzh, chloe);
    const noteId = `${bzh.url}/discussions/posts/${crypto.randomUUID()}`;
    const activity = {
      '@context': 'https://www.w3.org/ns/activitystreams',
      id: `${bzh.url}/ap/activities/${crypto.randomUUID()}`,
      type: 'Create',
      actor,
      to: [bureau.ap_id],
      object: { id: noteId, type: 'Note', attributedTo: actor, to: [bureau.ap_id], audience: bureau.ap_id, content: '<p>Intrusion</p>' },
    };
    const inbox = `${bureau.ap_id}/inbox`;
    await bzh.ctx.db.transaction().execute((trx) => enqueueToInbox(rt, trx, inbox, activity, chloe.username));
    const jobId = deliveryJobId(activity.id, inbox);
    await waitFor(async () => (await jobsOf(bzh.ctx, DELIVER_QUEUE)).find((j) => j.id === jobId)?.state === 'completed', {
      what: 'delivered to aura',
    });
    await settled(aura, idf);
    expect(await stored(aura, noteId)).toBeUndefined();
    expect(await stored(idf, noteId)).toBeUndefined();
  });

  it('propagates a moderator removal from aura to idf and bzh', async () => {
    const onAura = (await stored(aura, bobsPost.ap_id)) as PostRow;
    await aura.ctx.db
      .transaction()
      .execute((trx) => removePost(aura.ctx, trx, { postId: onAura.id, by: { moderator: personId(aura, alice) }, reason: 'Hors sujet' }));
    for (const net of [idf, bzh]) {
      const removed = await waitFor(
        async () => {
          const row = await stored(net, bobsPost.ap_id);
          return row?.status === 'removed' ? row : undefined;
        },
        { what: `removed on ${net.handle}` },
      );
      expect(removed.content_html).toBe('');
    }
  });

  it('sends a report of a remote post to its server as a Flag', async () => {
    const alices = await post(aura, { member: alice, groupId: gt.id, markdown: 'Réunion jeudi' });
    const onIdf = await waitFor(() => stored(idf, alices.ap_id), { what: 'alice’s post on idf' });
    await idf.ctx.db
      .transaction()
      .execute((trx) => reportPost(idf.ctx, trx, { postId: onIdf.id, reporter: personId(idf, bob), reason: 'Publicité' }));
    const report = await waitFor(
      () => aura.ctx.db.selectFrom('discussion_reports').selectAll().where('post_ap_id', '=', alices.ap_id).executeTakeFirst(),
      { what: 'report on aura' },
    );
    expect(report.reason).toBe('Publicité');
    expect(report.reporter).toBe(`${idf.url}/ap/actors/idf`);
    const local = await idf.ctx.db.selectFrom('discussion_reports').selectAll().where('post_id', '=', onIdf.id).executeTakeFirstOrThrow();
    expect(local.forwarded).toBe(true);
  });

  it('waits for a moderator when the group approves members by hand', async () => {
    const conseil = await localGroup(aura, 'conseil', 'public', alice, 'approval');
    const { group: onIdf, status } = await joinRemoteGroup(idf.ctx, bob, conseil.ap_id);
    expect(status).toBe('pending');
    const bobId = personId(idf, bob);
    await waitFor(async () => (await findMembership(aura.ctx.db, conseil.id, bobId))?.status === 'pending', { what: 'pending on aura' });
    await settled(aura, idf);
    expect((await findMembership(idf.ctx.db, onIdf.id, bobId))?.status).toBe('pending');
    await aura.ctx.db
      .transaction()
      .execute((trx) =>
        decideMembership(aura.ctx, trx, { groupId: conseil.id, actorApId: bobId, accept: true, moderator: personId(aura, alice) }),
      );
    await waitFor(async () => (await findMembership(idf.ctx.db, onIdf.id, bobId))?.status === 'accepted', { what: 'accepted on idf' });
  });

  it('refuses an Announce of something the group never received', async () => {
    const gtName = gt.ap_id.split('/').pop() as string;
    const inbox = `${idf.url}/inbox`;
    const missing = `${bzh.url}/discussions/posts/${crypto.randomUUID()}`;
    const forged = `${bzh.url}/discussions/posts/${crypto.randomUUID()}`;
    const announce = (object: unknown) => ({
      '@context': AS,
      id: `${aura.url}/ap/activities/${crypto.randomUUID()}`,
      type: 'Announce',
      actor: gt.ap_id,
      to: [`${AS}#Public`],
      object,
    });
    await deliverRaw(aura, inbox, announce(missing), gtName);
    // An embedded copy from another server is fetched again from there: it does not exist.
    const note = {
      id: forged,
      type: 'Note',
      attributedTo: personId(bzh, chloe),
      to: [gt.ap_id],
      audience: gt.ap_id,
      content: '<p>Faux</p>',
    };
    await deliverRaw(aura, inbox, announce(note), gtName);
    await settled(idf);
    expect(await stored(idf, missing)).toBeUndefined();
    expect(await stored(idf, forged)).toBeUndefined();
  });

  it('federates a comment on an announcement to its author, and the answer back to the commenter', async () => {
    await follow(idf, aura);
    const news = await publish(aura, { title: 'Assemblée générale', body: 'Le 3 mars à Lyon.' });
    const copy = await waitFor(() => storedAnnouncement(idf, news.apId), { what: 'announcement on idf' });
    const comment = await post(idf, { member: bob, announcementId: copy.id, markdown: 'J’y serai, avec le registre.' });
    const onAura = await waitFor(() => stored(aura, comment.ap_id), { what: 'comment on aura' });
    expect(onAura.announcement_id).toBe(news.id);
    expect(onAura.in_reply_to).toBe(news.apId);
    const answer = await post(aura, { member: alice, inReplyTo: onAura.ap_id, markdown: 'Merci, à bientôt !' });
    const back = await waitFor(() => stored(idf, answer.ap_id), { what: 'answer on idf' });
    expect(back.announcement_id).toBe(copy.id);
    expect(back.in_reply_to).toBe(comment.ap_id);
    expect(back.depth).toBe(1);
  });

  it('applies blocks: nothing from a blocked server is stored, nothing is relayed to it', async () => {
    const blocked = await aura.api<{ id: string }>('POST', '/api/v1/blocks', { value: new URL(bzh.url).host });
    expect(blocked.status).toBe(201);
    try {
      const fromBzh = await post(bzh, { member: chloe, groupId: gtOnBzh.id, markdown: 'Message d’un serveur bloqué' });
      const auraHost = new URL(aura.url).host;
      await waitFor(
        async () => {
          const hosts = await bzh.ctx.db.selectFrom('federation_delivery_hosts').selectAll().execute();
          return hosts.some((h) => h.host === auraHost && h.failures > 0);
        },
        { what: 'aura refused bzh' },
      );
      const fromAura = await post(aura, { member: alice, groupId: gt.id, markdown: 'Pour les membres non bloqués' });
      await waitFor(() => stored(idf, fromAura.ap_id), { what: 'relayed to idf' });
      await settled(aura);
      expect(await stored(aura, fromBzh.ap_id)).toBeUndefined();
      expect(await stored(bzh, fromAura.ap_id)).toBeUndefined();
    } finally {
      await aura.api('DELETE', `/api/v1/blocks/${blocked.body.id}`);
    }
  });

  it('leaves with Undo(Follow): the group forgets the member', async () => {
    expect(await leaveGroup(bzh.ctx, { member: chloe, groupId: gtOnBzh.id })).toBe(true);
    await waitFor(async () => !(await findMembership(aura.ctx.db, gt.id, personId(bzh, chloe))), { what: 'chloe left on aura' });
    expect(await findGroupByApId(bzh.ctx.db, gt.ap_id)).toBeDefined();
  });

  it('tags mentions and sends the post to the people mentioned, members or not', async () => {
    const chloeHandle = `${chloe.username}@${new URL(bzh.url).host}`;
    const mentioning = await post(aura, { member: alice, groupId: gt.id, markdown: `Bienvenue @${chloeHandle} !` });
    const note = (await (await fetch(mentioning.ap_id, { headers: AP })).json()) as { tag: unknown };
    expect(mentioning.mentions).toEqual([chloeHandle]);
    expect([note.tag].flat()).toContainEqual(expect.objectContaining({ type: 'Mention', href: personId(bzh, chloe) }));
    const toBzh = await waitFor(
      async () =>
        (await jobsOf(aura.ctx, DELIVER_QUEUE)).find(
          (j) =>
            j.data.inbox === `${bzh.url}/inbox` && j.data.activity.type === 'Create' && j.data.activity.object?.id === mentioning.ap_id,
        ),
      { what: 'the Create sent to the person mentioned' },
    );
    expect(toBzh.data.signer).toBe(alice.username);
  });

  it('finds someone mentioned whom the instance has never seen (WebFinger, in a job), and tells them', async () => {
    const dora = await member(idf, 'Dora');
    const doraHandle = `${dora.username}@${new URL(idf.url).host}`;
    const mentioning = await post(aura, { member: alice, groupId: gt.id, markdown: `Une question pour @${doraHandle}` });
    expect(mentioning.mentions).toEqual([doraHandle]);
    const toIdf = await waitFor(
      async () =>
        (await jobsOf(aura.ctx, DELIVER_QUEUE)).find(
          (j) =>
            j.data.inbox === `${idf.url}/inbox` &&
            j.data.activity.type === 'Create' &&
            j.data.activity.object?.id === mentioning.ap_id &&
            JSON.stringify(j.data.activity.object?.tag ?? []).includes(personId(idf, dora)),
        ),
      { what: 'the Create sent to the person found by WebFinger' },
    );
    expect(toIdf.data.signer).toBe(alice.username);
    // The post served from now on names her too.
    const note = (await (await fetch(mentioning.ap_id, { headers: AP })).json()) as { tag: unknown };
    expect([note.tag].flat()).toContainEqual(expect.objectContaining({ type: 'Mention', href: personId(idf, dora) }));
  });

  it('sends a group’s new profile as Update(Group), and its closure as Delete(Group), to its members’ servers', async () => {
    await aura.ctx.db
      .transaction()
      .execute((trx) => updateGroup(aura.ctx, trx, gt.id, { name: 'GT RGPD du mouvement', summary: 'Le registre, les contrats.' }));
    await waitFor(async () => (await findGroupById(idf.ctx.db, gtOnIdf.id))?.name === 'GT RGPD du mouvement', {
      what: 'the new name on idf',
    });
    expect((await findGroupById(idf.ctx.db, gtOnIdf.id))?.summary).toBe('Le registre, les contrats.');

    const ephemeral = await localGroup(aura, 'gt_ephemere', 'public', alice);
    const onIdf = await join(idf, bob, ephemeral);
    await aura.ctx.db
      .transaction()
      .execute((trx) => closeGroup(aura.ctx, trx, { groupId: ephemeral.id, moderator: 'test', reason: 'travail terminé' }));
    await waitFor(async () => (await findGroupById(idf.ctx.db, onIdf.id)) === undefined, { what: 'the copy closed on idf' });
    // Another group of the same server is untouched.
    expect((await findGroupById(idf.ctx.db, gtOnIdf.id))?.name).toBe('GT RGPD du mouvement');
  });
});
