// Incoming activities about discussions (FEP-1b12 groups, replies, reports). inbox.ts asks each
// handler first; a handler answers true when the activity was about discussions (handled or
// refused), false to let the announcement and resource handling go on as before.
// - Follow of a local group → membership (accepted, or pending when the group approves by hand;
//   the Accept, signed by the group, leaves through the membership event); Undo → membership ends.
// - Accept/Reject of a Follow a local person sent to a remote group → membership accepted/ended.
// - Create/Update(Note) addressed to a local group, or answering something stored here → stored
//   through the discussions service (membership, bans, rate limits, sanitizing happen there).
//   Notes addressed to a remote group are taken only from that group's Announce (verified).
// - Announce from a remote group we joined → the object fetched from its own server (signed: it
//   may be members-only), addressed to the group, by a member → stored; Announce(Delete) → the
//   group removes a post of the group.
// - Delete(Note) by its author, or by the group it was posted in → removed. Flag → a report.
// Network I/O (actor and object fetches) happens before each short transaction.
import type { Context } from '@fedify/fedify';
import type { Announce, Undo } from '@fedify/vocab';
import { type Accept, Article, Create, Delete, type Flag, Follow, Hashtag, Mention, Note, type Reject, Update } from '@fedify/vocab';
import { AppError } from '../core/errors.ts';
import { findGroupByApId, findGroupById, findLocalGroupByUsername, type GroupRow } from '../discussions/groups.repository.ts';
import { deleteMembership, findMembership, setMembershipStatus, upsertMembership } from '../discussions/memberships.repository.ts';
import { isBannedFrom } from '../discussions/moderation.repository.ts';
import { reportPost } from '../discussions/moderation.service.ts';
import { findPostByApId } from '../discussions/posts.repository.ts';
import { type RemotePostInput, removePost, storeRemotePost } from '../discussions/posts.service.ts';
import { toJson } from './activities.ts';
import { enqueueToInbox } from './delivery.ts';
import { groupRejectOf } from './discussions-activities.ts';
import { isLocalId } from './discussions-actors.ts';
import { findMembershipByFollowId } from './discussions-federation.repository.ts';
import { checkRemoteMembers, groupFollowersUrl, signedDocumentLoader } from './discussions-fetch.ts';
import { isBlocked } from './federation.repository.ts';
import { GuardError } from './guard.ts';
import { fetchActor } from './remote-actors.ts';
import type { FederationRuntime } from './runtime.ts';

type Ctx = Context<FederationRuntime>;

const toDate = (i: { epochMilliseconds: number } | null | undefined): Date | undefined => (i ? new Date(i.epochMilliseconds) : undefined);

function refused(rt: FederationRuntime, object: string | undefined, reason: string): true {
  rt.app.log.info({ object, reason }, 'federation: refused a discussion activity');
  return true;
}

// --- Membership of local groups -------------------------------------------------------------

/** A Follow of a local group (true), of a local person (true, ignored), or of the network (false). */
export async function onDiscussionFollow(ctx: Ctx, follow: Follow): Promise<boolean> {
  const rt = ctx.data;
  if (!follow.id || !follow.actorId || !follow.objectId) return false;
  const parsed = ctx.parseUri(follow.objectId);
  if (parsed?.type !== 'actor' || parsed.identifier === rt.handle) return false;
  const group = await findLocalGroupByUsername(rt.app.db, parsed.identifier);
  if (!group) return true; // people are not followed; nothing is sent to followers of a person
  const actorId = follow.actorId.href;
  if (isLocalId(rt, actorId) || (await isBlocked(rt.app.db, actorId))) return true;
  const follower = await fetchActor(rt, actorId, { fresh: true });
  const followId = follow.id.href;
  const reject = await toJson(groupRejectOf(rt, group, actorId, followId));
  await rt.app.db.transaction().execute(async (trx) => {
    if (await isBannedFrom(trx, group.id, actorId)) {
      await enqueueToInbox(rt, trx, follower.inbox, reject, group.username ?? undefined);
      return;
    }
    const existing = await findMembership(trx, group.id, actorId);
    const status = existing?.status === 'accepted' || group.join_policy === 'open' ? 'accepted' : 'pending';
    await upsertMembership(trx, {
      groupId: group.id,
      actorApId: actorId,
      handle: follower.handle,
      name: follower.name,
      inbox: follower.inbox,
      sharedInbox: follower.sharedInbox,
      status,
      followActivityId: followId,
      ...(existing ? { role: existing.role } : {}),
    });
    await rt.app.events.publish(trx, 'discussion.membership.changed', { groupId: group.id, actorApId: actorId, status });
  });
  return true;
}

/** Undo(Follow) of a local group: the remote member leaves. */
export async function onDiscussionUndo(ctx: Ctx, undo: Undo, object: unknown): Promise<boolean> {
  const rt = ctx.data;
  if (!(object instanceof Follow) || !object.objectId || !undo.actorId) return false;
  if (object.actorId?.href !== undo.actorId.href) return false;
  const parsed = ctx.parseUri(object.objectId);
  if (parsed?.type !== 'actor' || parsed.identifier === rt.handle) return false;
  const group = await findLocalGroupByUsername(rt.app.db, parsed.identifier);
  if (!group) return true;
  const actorId = undo.actorId.href;
  await rt.app.db.transaction().execute(async (trx) => {
    const existing = await findMembership(trx, group.id, actorId);
    if (!existing || existing.status === 'banned') return; // a ban outlives leaving
    await deleteMembership(trx, group.id, actorId);
    await rt.app.events.publish(trx, 'discussion.membership.changed', { groupId: group.id, actorApId: actorId, status: null });
  });
  return true;
}

/** Accept or Reject, by a remote group, of the Follow a local person sent to join it. */
export async function onDiscussionAnswer(ctx: Ctx, answer: Accept | Reject, accepted: boolean): Promise<boolean> {
  const rt = ctx.data;
  const followId = answer.objectId?.href;
  const actorId = answer.actorId?.href;
  if (!followId || !actorId || !isLocalId(rt, followId)) return false;
  const membership = await findMembershipByFollowId(rt.app.db, followId);
  if (membership?.group_origin !== 'remote') return false;
  if (membership.group_ap_id !== actorId) return refused(rt, followId, 'an answer to a join from another actor than the group');
  await rt.app.db.transaction().execute(async (trx) => {
    if (accepted) {
      if (membership.status !== 'pending') return;
      await setMembershipStatus(trx, membership.group_id, membership.actor_ap_id, 'accepted');
      await rt.app.events.publish(trx, 'discussion.membership.changed', {
        groupId: membership.group_id,
        actorApId: membership.actor_ap_id,
        status: 'accepted',
      });
    } else {
      // Refused or removed by the group. No event: it would send an Undo back (see the outbox).
      await deleteMembership(trx, membership.group_id, membership.actor_ap_id);
    }
  });
  return true;
}

// --- Posts ----------------------------------------------------------------------------------

async function audienceIds(object: Note | Article): Promise<string[]> {
  return [...object.toIds, ...object.ccIds, ...object.audienceIds].map((u) => u.href);
}

async function tagsAndMentions(object: Note | Article): Promise<{ tags: string[]; mentions: string[] }> {
  const tags: string[] = [];
  const mentions: string[] = [];
  try {
    for await (const tag of object.getTags({ suppressError: true })) {
      if (tag instanceof Hashtag) {
        const name = tag.name?.toString().replace(/^#/, '');
        if (name) tags.push(name);
      } else if (tag instanceof Mention && tag.href) {
        // Stored as user@host, like mentions written here (a bare "@user" is on the href's host).
        const name = tag.name?.toString().replace(/^@/, '') ?? '';
        const handle = name.includes('@') ? name : name ? `${name}@${tag.href.host}` : '';
        if (handle) mentions.push(handle.toLowerCase());
      }
    }
  } catch {
    // A tag that cannot be read is left out.
  }
  return { tags, mentions };
}

async function remoteInput(rt: FederationRuntime, note: Note | Article, groupApId?: string): Promise<RemotePostInput> {
  const id = note.id as URL;
  const authorId = (note.attributionId as URL).href;
  const author = await fetchActor(rt, authorId);
  const host = new URL(authorId).host;
  const url = note.url instanceof URL ? note.url.href : (note.url?.href?.href ?? id.href);
  const { tags, mentions } = await tagsAndMentions(note);
  const updatedAt = toDate(note.updated);
  return {
    apId: id.href,
    url,
    authorApId: authorId,
    authorName: author.name ?? author.handle ?? host,
    authorHandle: author.handle ?? host,
    ...(note.replyTargetId ? { inReplyTo: note.replyTargetId.href } : {}),
    ...(groupApId ? { groupApId } : {}),
    ...(note.name ? { title: note.name.toString() } : {}),
    contentHtml: note.content?.toString() ?? '',
    tags,
    mentions,
    publishedAt: toDate(note.published) ?? new Date(),
    ...(updatedAt ? { updatedAt } : {}),
  };
}

async function store(rt: FederationRuntime, input: RemotePostInput): Promise<void> {
  const result = await rt.app.db.transaction().execute((trx) => storeRemotePost(rt.app, trx, input));
  if ('refused' in result) refused(rt, input.apId, result.refused);
}

/** The group a Note is addressed to: a local group, or a remote group known here. */
async function addressedGroup(rt: FederationRuntime, note: Note | Article): Promise<GroupRow | undefined> {
  for (const id of await audienceIds(note)) {
    if (id === 'https://www.w3.org/ns/activitystreams#Public' || id.endsWith('/followers')) continue;
    const group = await findGroupByApId(rt.app.db, id);
    if (group) return group;
  }
  return undefined;
}

/**
 * Create/Update whose object is a discussion Note: a plain Note, or one that answers something or
 * is addressed to a group. A Note with a name sent by a network to its followers stays news.
 */
export async function onDiscussionNote(ctx: Ctx, activity: Create | Update, object: unknown): Promise<boolean> {
  const rt = ctx.data;
  if (!(object instanceof Note) || !object.id) return false;
  const group = await addressedGroup(rt, object);
  if (object.name && !object.replyTargetId && !group) return false;
  const actorId = activity.actorId?.href;
  if (!actorId || object.attributionId?.href !== actorId) return refused(rt, object.id.href, 'the author is not the sender');
  if (object.id.origin !== new URL(actorId).origin) return refused(rt, object.id.href, 'hosted on another server than its author');
  if (isLocalId(rt, object.id.href)) return true;
  // Posts to a remote group come through the group's Announce, which is checked; a copy sent
  // directly could bypass a members-only group.
  if (group && group.origin === 'remote') return true;
  await store(rt, await remoteInput(rt, object, group?.ap_id));
  return true;
}

/** A remote group (or a post's author) takes a post away. */
async function removeStored(rt: FederationRuntime, objectId: string, actorId: string, viaGroup?: GroupRow): Promise<boolean> {
  const post = await findPostByApId(rt.app.db, objectId);
  if (!post) return false;
  if (post.status === 'removed') return true;
  const group = post.group_id ? await findGroupById(rt.app.db, post.group_id) : undefined;
  let by: { moderator: string } | { authorApId: string };
  if (group && group.origin === 'remote' && group.ap_id === actorId && (!viaGroup || viaGroup.id === group.id)) by = { moderator: actorId };
  else if (post.origin === 'remote' && post.author_ap_id === actorId) by = { authorApId: actorId };
  else return refused(rt, objectId, 'a Delete from someone who is neither the author nor the group');
  await rt.app.db
    .transaction()
    .execute((trx) =>
      removePost(rt.app, trx, { postId: post.id, by, reason: 'moderator' in by ? 'Retiré par le groupe' : 'Supprimé par son auteur' }),
    );
  return true;
}

export async function onDiscussionDelete(ctx: Ctx, del: Delete): Promise<boolean> {
  const actorId = del.actorId?.href;
  const objectId = del.objectId?.href;
  if (!actorId || !objectId) return false;
  return removeStored(ctx.data, objectId, actorId);
}

/** The post a group announces, checked: fetched from its own server, for the group, by a member. */
async function storeAnnounced(rt: FederationRuntime, group: GroupRow, note: Note | Article): Promise<void> {
  const id = note.id?.href;
  const author = note.attributionId?.href;
  if (!id || !author) return void refused(rt, id, 'no id or author');
  if (isLocalId(rt, id)) return; // one of ours, relayed back
  if (new URL(id).origin !== new URL(author).origin) return void refused(rt, id, 'hosted on another server than its author');
  if (!(await audienceIds(note)).includes(group.ap_id)) return void refused(rt, id, 'not addressed to the group');
  if (await isBlocked(rt.app.db, author)) return void refused(rt, id, 'blocked author');
  // Members post; in a public group, others may answer (the group accepted it from its author).
  const openReply = group.visibility === 'public' && note.replyTargetId !== null;
  if (author !== group.ap_id && !openReply) {
    const followers = await groupFollowersUrl(rt, group.ap_id);
    const member = followers !== undefined && (await checkRemoteMembers(rt, followers, (ids) => ids.has(author)));
    if (!member) return void refused(rt, id, 'the author is not a member of the group');
  }
  await store(rt, await remoteInput(rt, note, group.ap_id));
}

/** Announce by a remote group we joined (true); any other Announce is news (false). */
export async function onDiscussionAnnounce(ctx: Ctx, announce: Announce): Promise<boolean> {
  const rt = ctx.data;
  const actorId = announce.actorId?.href;
  if (!actorId) return false;
  const group = await findGroupByApId(rt.app.db, actorId);
  if (group?.origin !== 'remote') return false;
  const loader = signedDocumentLoader(rt);
  const options = { documentLoader: loader, contextLoader: rt.guard.documentLoader };
  let object: unknown;
  try {
    object = await announce.getObject(options);
    if (object instanceof Create || object instanceof Update) object = await object.getObject(options);
  } catch (error) {
    if (error instanceof GuardError && (error.kind !== 'network' || (error.status ?? 500) < 500)) {
      return refused(rt, announce.objectId?.href, `the announced object cannot be fetched (${error.message})`);
    }
    throw error;
  }
  if (object instanceof Delete) {
    const target = object.objectId?.href;
    if (target && object.actorId?.href === actorId) await removeStored(rt, target, actorId, group);
    else if (target && object.actorId) await removeStored(rt, target, object.actorId.href, group);
    return true;
  }
  if (object instanceof Note || object instanceof Article) {
    // Fedify fetched it by its id (or took it embedded from its own server): it is authentic.
    await storeAnnounced(rt, group, object);
    return true;
  }
  return refused(rt, announce.objectId?.href, 'nothing this group can announce');
}

// --- Reports --------------------------------------------------------------------------------

/** Flag: each flagged post stored here becomes a report (the reporter is the sending server). */
export async function onDiscussionFlag(ctx: Ctx, flag: Flag): Promise<void> {
  const rt = ctx.data;
  const actorId = flag.actorId?.href;
  if (!actorId || (await isBlocked(rt.app.db, actorId))) return;
  const reason = (flag.content?.toString() ?? '').slice(0, 2000) || 'Signalement reçu sans motif';
  for (const objectId of flag.objectIds) {
    const post = await findPostByApId(rt.app.db, objectId.href);
    if (!post) continue;
    try {
      await rt.app.db.transaction().execute((trx) => reportPost(rt.app, trx, { postId: post.id, reporter: actorId, reason }));
    } catch (error) {
      if (error instanceof AppError) refused(rt, objectId.href, error.message);
      else throw error;
    }
  }
}
