// What this instance does with verified incoming activities (Fedify has checked the HTTP
// Signature and that the signer owns the actor before any of this runs).
// - Follow → follower stored, Accept sent (or left pending when admins approve by hand);
//   Undo(Follow) → follower removed; Accept/Reject → our follow's status.
// - Create/Update(Article, or Note with a name) from a network we follow → stored through the
//   announcements capability (which sanitizes); the author must be the sender. Delete → removed,
//   only by its author. Announce of an Article by a network we follow → the Article fetched from
//   its own server and stored with its original author.
// - Create/Update of a Document from a network we follow → a shared resource of the library;
//   Delete → removed (inbox-resources.ts).
// - With FEDERATION_RELAY, each newly received announcement is announced to our followers.
// - Discussions (groups, replies, comments, Flag) are asked first (discussions-inbox.ts).
// Anything else is ignored (Fedify answers 202).
import type { InboxListenerSetters } from '@fedify/fedify';
import { Accept, Announce, Article, Create, Delete, Flag, Follow, Hashtag, lookupObject, Note, Reject, Undo, Update } from '@fedify/vocab';
import {
  deleteRemoteAnnouncement,
  type RemoteAnnouncementInput,
  upsertRemoteAnnouncement,
} from '../announcements/remote-announcements.service.ts';
import { AppError } from '../core/errors.ts';
import { acceptOf, announceOf, toJson, undoAnnounceOf } from './activities.ts';
import { findAnnouncementByApId } from './announcements-read.repository.ts';
import { enqueueToFollowers, enqueueToInbox } from './delivery.ts';
import { onGroupDeleted, onGroupProfileUpdate } from './discussions-group-profile.ts';
import {
  onDiscussionAnnounce,
  onDiscussionAnswer,
  onDiscussionDelete,
  onDiscussionFlag,
  onDiscussionFollow,
  onDiscussionNote,
  onDiscussionUndo,
} from './discussions-inbox.ts';
import {
  deleteFollowerByActor,
  getFollowByActor,
  isBlocked,
  isFollowing,
  setFollowStatus,
  upsertFollower,
} from './federation.repository.ts';
import { manualApproval } from './federation-settings.repository.ts';
import { GuardError } from './guard.ts';
import { deleteResource, isPlainDocument, storeResource } from './inbox-resources.ts';
import { fetchActor } from './remote-actors.ts';
import type { FederationRuntime } from './runtime.ts';
import { inSharedTransaction } from './shared-transaction.ts';

type Post = Article | Note;

async function tagsOf(object: Post): Promise<string[]> {
  const tags: string[] = [];
  try {
    for await (const tag of object.getTags()) {
      if (tag instanceof Hashtag) {
        const name = tag.name?.toString().replace(/^#/, '');
        if (name) tags.push(name);
      }
    }
  } catch {
    // A tag that cannot be read is left out.
  }
  return tags;
}

const toDate = (i: { epochMilliseconds: number } | null | undefined): Date | undefined => (i ? new Date(i.epochMilliseconds) : undefined);

/** Store `object` as an announcement of `authorId`; refuses when the object names another author. */
async function storePost(rt: FederationRuntime, object: Post, authorId: string, relay: boolean): Promise<void> {
  const log = rt.app.log;
  if (!object.id) return;
  if (object instanceof Note && !object.name) return; // a plain Note is a conversation, not news
  if (object.attributionId?.href !== authorId) {
    log.warn({ object: object.id.href }, 'federation: refused an object whose author is not the sender');
    return;
  }
  if (object.id.origin !== new URL(authorId).origin) {
    log.warn({ object: object.id.href }, 'federation: refused an object hosted on another server than its author');
    return;
  }
  const url = object.url instanceof URL ? object.url.href : (object.url?.href?.href ?? object.id.href);
  await storeAnnouncement(
    rt,
    {
      apId: object.id.href,
      url,
      title: object.name?.toString() ?? '',
      summary: object.summary?.toString() ?? '',
      contentHtml: object.content?.toString() ?? '',
      tags: await tagsOf(object),
      publishedAt: toDate(object.published) ?? new Date(),
      ...(object.updated ? { updatedAt: toDate(object.updated) } : {}),
    },
    authorId,
    relay,
  );
}

export type ReceivedAnnouncement = Omit<RemoteAnnouncementInput, 'actorId' | 'networkName' | 'networkHandle'>;

/**
 * Store an announcement received from `authorId` (already checked to be its author, on its
 * server), with its network's name; relayed to our followers when new and `relay` is asked.
 * Shared by Fedify's listeners and the direct inbox (inbox-direct.ts).
 */
export async function storeAnnouncement(
  rt: FederationRuntime,
  post: ReceivedAnnouncement,
  authorId: string,
  relay: boolean,
): Promise<void> {
  const author = await fetchActor(rt, authorId);
  const input: RemoteAnnouncementInput = {
    ...post,
    actorId: authorId,
    networkName: author.name ?? author.handle ?? new URL(authorId).host,
    networkHandle: author.handle ?? new URL(authorId).host,
  };
  const announce = rt.app.config.federationRelay && relay ? await toJson(announceOf(input.apId, rt.urls)) : undefined;
  try {
    // Shared with the other activities stored at the same moment (shared-transaction.ts).
    await inSharedTransaction(rt.app.db, input.apId, async (trx) => {
      const { created } = await upsertRemoteAnnouncement(trx, input, rt.app.events);
      if (created && announce) await enqueueToFollowers(rt, trx, announce, [new URL(authorId).host]);
    });
  } catch (error) {
    if (error instanceof AppError && (error.code === 'forbidden' || error.code === 'bad_request')) {
      rt.app.log.warn({ object: input.apId, reason: error.message }, 'federation: refused an announcement');
      return;
    }
    throw error;
  }
}

/**
 * The object of an activity. Fedify fetches it from its own server when the embedded copy comes
 * from another origin; a refusal there (4xx) or from the guard means: ignore, do not retry.
 */
async function objectOf(rt: FederationRuntime, activity: Create | Update | Undo): Promise<unknown> {
  try {
    return await activity.getObject({ documentLoader: rt.guard.documentLoader, contextLoader: rt.guard.documentLoader });
  } catch (error) {
    if (error instanceof GuardError && (error.kind !== 'network' || (error.status ?? 500) < 500)) {
      rt.app.log.info(
        { activity: activity.id?.href, reason: error.message },
        'federation: ignored an activity whose object cannot be fetched',
      );
      return null;
    }
    throw error;
  }
}

/**
 * A relay withdrew an announcement it had relayed. The relay is not the author, so its word is not
 * enough: the copy is deleted only when the author's own server says the object is gone.
 */
async function withdrawRelayed(rt: FederationRuntime, apId: string): Promise<void> {
  const stored = await findAnnouncementByApId(rt.app.db, apId);
  if (stored?.origin !== 'remote' || stored.deleted_at || !stored.actor_id) return;
  let status: number;
  try {
    status = (await rt.guard.fetch(apId, { headers: { accept: 'application/activity+json' } })).status;
  } catch (error) {
    if (error instanceof GuardError && error.kind !== 'timeout' && error.kind !== 'network') return;
    throw error; // unreachable for now: try again later
  }
  if (status !== 404 && status !== 410) return;
  const actorId = stored.actor_id;
  await rt.app.db.transaction().execute((trx) => deleteRemoteAnnouncement(trx, apId, actorId));
}

async function fromFollowed(rt: FederationRuntime, actorId: string | undefined): Promise<boolean> {
  if (!actorId || (await isBlocked(rt.app.db, actorId))) return false;
  if (await isFollowing(rt.app.db, actorId)) return true;
  rt.app.log.info({ actor: actorId }, 'federation: ignored an activity from a network we do not follow');
  return false;
}

export function registerInboxListeners(listeners: InboxListenerSetters<FederationRuntime>): void {
  listeners
    .on(Follow, async (ctx, follow) => {
      const rt = ctx.data;
      if (!follow.id || !follow.actorId || !follow.objectId) return;
      if (await onDiscussionFollow(ctx, follow)) return; // joining a group
      if (ctx.parseUri(follow.objectId)?.type !== 'actor') return;
      if (await isBlocked(rt.app.db, follow.actorId.href)) return;
      const follower = await fetchActor(rt, follow.actorId.href, { fresh: true });
      const manual = await manualApproval(rt.app.db);
      const accept = manual ? undefined : await toJson(acceptOf(follower.id, follow.id.href, rt.urls));
      await rt.app.db.transaction().execute(async (trx) => {
        await upsertFollower(trx, follower, (follow.id as URL).href, manual ? 'pending' : 'accepted');
        if (accept) await enqueueToInbox(rt, trx, follower.inbox, accept);
      });
    })
    .on(Undo, async (ctx, undo) => {
      const rt = ctx.data;
      if (!undo.actorId) return;
      const object = await objectOf(rt, undo);
      if (await onDiscussionUndo(ctx, undo, object)) return; // leaving a group
      if (object instanceof Follow && object.actorId?.href === undo.actorId.href) {
        await deleteFollowerByActor(rt.app.db, undo.actorId.href);
      }
      if (object instanceof Announce && object.objectId && (await fromFollowed(rt, undo.actorId.href))) {
        await withdrawRelayed(rt, object.objectId.href);
      }
    })
    .on(Accept, async (ctx, accept) => {
      const rt = ctx.data;
      if (!accept.actorId) return;
      if (await onDiscussionAnswer(ctx, accept, true)) return; // a group accepted a local person
      const follow = await getFollowByActor(rt.app.db, accept.actorId.href);
      if (follow && follow.status !== 'accepted') await setFollowStatus(rt.app.db, accept.actorId.href, 'accepted');
    })
    .on(Reject, async (ctx, reject) => {
      const rt = ctx.data;
      if (!reject.actorId) return;
      if (await onDiscussionAnswer(ctx, reject, false)) return;
      if (await getFollowByActor(rt.app.db, reject.actorId.href)) await setFollowStatus(rt.app.db, reject.actorId.href, 'rejected');
    })
    .on(Create, async (ctx, create) => {
      const rt = ctx.data;
      const object = await objectOf(rt, create);
      // Discussions (group posts, replies, comments) come from anyone, not only followed networks.
      if (await onDiscussionNote(ctx, create, object)) return;
      if (!(await fromFollowed(rt, create.actorId?.href))) return;
      if (object instanceof Article || object instanceof Note) await storePost(rt, object, (create.actorId as URL).href, true);
      else if (isPlainDocument(object)) await storeResource(rt, object, (create.actorId as URL).href);
    })
    .on(Update, async (ctx, update) => {
      const rt = ctx.data;
      const object = await objectOf(rt, update);
      if (await onGroupProfileUpdate(rt, update.actorId?.href, object)) return; // a group's new profile
      if (await onDiscussionNote(ctx, update, object)) return;
      if (!(await fromFollowed(rt, update.actorId?.href))) return;
      if (object instanceof Article || object instanceof Note) await storePost(rt, object, (update.actorId as URL).href, false);
      else if (isPlainDocument(object)) await storeResource(rt, object, (update.actorId as URL).href);
    })
    .on(Delete, async (ctx, del) => {
      const rt = ctx.data;
      const actorId = del.actorId?.href;
      const objectId = del.objectId?.href;
      if (!actorId || !objectId || (await isBlocked(rt.app.db, actorId))) return;
      if (await onGroupDeleted(rt, actorId, objectId)) return; // a group we joined was closed
      if (await onDiscussionDelete(ctx, del)) return; // a discussion post
      if (await deleteResource(rt, objectId, actorId)) return; // a shared resource, not an announcement
      // With FEDERATION_RELAY, those who received it from us are told to drop it too.
      const undo = rt.app.config.federationRelay ? await toJson(undoAnnounceOf(objectId, rt.urls)) : undefined;
      try {
        await rt.app.db.transaction().execute(async (trx) => {
          const deleted = await deleteRemoteAnnouncement(trx, objectId, actorId);
          if (deleted && undo) await enqueueToFollowers(rt, trx, undo, [new URL(actorId).host]);
        });
      } catch (error) {
        if (error instanceof AppError && error.code === 'forbidden') {
          rt.app.log.warn({ object: objectId }, 'federation: refused a Delete from someone who is not the author');
          return;
        }
        throw error;
      }
    })
    .on(Announce, async (ctx, announce) => {
      const rt = ctx.data;
      if (await onDiscussionAnnounce(ctx, announce)) return; // a group relaying a post
      if (!(await fromFollowed(rt, announce.actorId?.href)) || !announce.objectId) return;
      // Fetch the object from its own server: an embedded copy could say anything.
      const object = await lookupObject(announce.objectId, {
        documentLoader: rt.guard.documentLoader,
        contextLoader: rt.guard.documentLoader,
      });
      if (!(object instanceof Article || object instanceof Note) || !object.id || !object.attributionId) return;
      if (object.id.href !== announce.objectId.href) return;
      if (await isBlocked(rt.app.db, object.attributionId.href)) return;
      await storePost(rt, object, object.attributionId.href, false);
    })
    .on(Flag, (ctx, flag) => onDiscussionFlag(ctx, flag))
    .onError((ctx, error) => {
      ctx.data.app.log.warn({ err: error }, 'federation: could not process an incoming activity');
    });
}
