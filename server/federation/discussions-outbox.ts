// Outgoing activities of discussions, recorded in the transaction of the change (domain events):
// - a post in a local group (local or received, once visible) → `Announce` by the group to every
//   accepted remote member, one POST per shared inbox; edits are announced again; a removal
//   goes out as Announce(Delete) by the group;
// - a local person's post in a remote group → Create(Note) (Update, Delete) to the group's inbox,
//   signed by the person (the group relays it);
// - a local comment (under an announcement, a resource or a comment) → to the author it answers
//   and to the people it mentions, whose inboxes are looked up in a job (network I/O never runs
//   inside a transaction);
// - memberships of local groups → Accept / Reject signed by the group; a local person joining or
//   leaving a remote group (a pending membership, or none) → Follow / Undo(Follow);
// - a report of a remote post → Flag, signed by the network actor, to the author's server.

import { fromKysely } from 'pg-boss';
import { AppError } from '../core/errors.ts';
import type { Executor } from '../core/events.ts';
import '../discussions/discussions.events.ts';
import { findGroupById, type GroupRow } from '../discussions/groups.repository.ts';
import { findMembership, listMemberInboxes } from '../discussions/memberships.repository.ts';
import { findReportById, markReportForwarded } from '../discussions/moderation.repository.ts';
import { findPostById } from '../discussions/posts.repository.ts';
import { toJson } from './activities.ts';
import { DELIVER_QUEUE, DELIVERY_POLICY, type DeliverJob, deliveryJobId, enqueueToInbox } from './delivery.ts';
import {
  createNoteOf,
  deleteNoteOf,
  flagOf,
  groupAcceptOf,
  groupAnnounceOf,
  groupRejectOf,
  joinOf,
  leaveOf,
  updateNoteOf,
} from './discussions-activities.ts';
import { isLocalId, localUsernameOf, mentionsOf, noteOf } from './discussions-actors.ts';
import { remoteAuthorOf, setFollowActivityId } from './discussions-federation.repository.ts';
import { defineMentionLookup, enqueueMentionLookup, unresolvedHandles } from './discussions-mentions.ts';
import { getRemoteActor, isBlocked, listBlocks } from './federation.repository.ts';
import { fetchActor } from './remote-actors.ts';
import type { FederationRuntime } from './runtime.ts';

export const ADDRESS_QUEUE = 'federation.discussions.address';

interface AddressJob {
  activity: Record<string, unknown>;
  actorIds: string[];
  signer?: string;
}

/** Record that `activity` goes to these actors (their inboxes are looked up in the job). */
export async function enqueueToActors(
  rt: FederationRuntime,
  trx: Executor,
  actorIds: string[],
  activity: Record<string, unknown>,
  signer?: string,
) {
  const ids = [...new Set(actorIds.filter((id) => !isLocalId(rt, id)))];
  if (ids.length === 0) return;
  const job: AddressJob = signer ? { activity, actorIds: ids, signer } : { activity, actorIds: ids };
  await rt.app.queue.send<AddressJob>(ADDRESS_QUEUE, job, { trx, id: deliveryJobId(String(activity.id), 'actors') });
}

async function address(rt: FederationRuntime, job: AddressJob): Promise<void> {
  const inboxes = new Set<string>();
  for (const id of job.actorIds) {
    if (await isBlocked(rt.app.db, id)) continue;
    try {
      const actor = await fetchActor(rt, id);
      inboxes.add(actor.sharedInbox ?? actor.inbox);
    } catch (error) {
      // Gone or not an actor: nobody to tell. Unreachable: the job is tried again.
      if (error instanceof AppError && (error.code === 'not_found' || error.code === 'validation_failed')) continue;
      throw error;
    }
  }
  await rt.app.db.transaction().execute(async (trx) => {
    for (const inbox of inboxes) await enqueueToInbox(rt, trx, inbox, job.activity, job.signer);
  });
}

/**
 * The group's fan-out: every accepted remote member, one delivery per shared inbox. Blocked
 * servers are left out here already (the delivery's own check reads a list kept a few seconds).
 */
export async function toMembers(rt: FederationRuntime, trx: Executor, group: GroupRow, activity: Record<string, unknown>): Promise<void> {
  const blocked = new Set((await listBlocks(trx)).filter((b) => b.kind === 'host').map((b) => b.value));
  const members = (await listMemberInboxes(trx, group.id)).filter((r) => !blocked.has(r.host));
  const inboxes = [...new Set(members.map((r) => r.shared_inbox ?? r.inbox))];
  // One statement per 500 inboxes (as the network's fan-out), with the same idempotent job ids.
  const activityId = String(activity.id);
  const signer = group.username ? { signer: group.username } : {};
  for (let i = 0; i < inboxes.length; i += 500) {
    const jobs = inboxes.slice(i, i + 500).map((inbox) => ({
      id: deliveryJobId(activityId, inbox),
      data: { inbox, activityId, activity, ...signer } satisfies DeliverJob,
      retryLimit: DELIVERY_POLICY.retryLimit,
      retryDelay: DELIVERY_POLICY.retryDelay,
      retryBackoff: true,
      retryDelayMax: DELIVERY_POLICY.retryDelayMax,
      expireInSeconds: 120,
    }));
    await rt.app.queue.boss.insert(DELIVER_QUEUE, jobs, { db: fromKysely(trx) });
  }
}

async function sendPost(rt: FederationRuntime, trx: Executor, postId: string, kind: 'create' | 'update'): Promise<void> {
  const post = await findPostById(trx, postId);
  if (post?.status !== 'visible') return;
  const group = post.group_id ? await findGroupById(trx, post.group_id) : undefined;
  if (post.group_id && !group) return;
  if (group?.origin === 'local') {
    await toMembers(rt, trx, group, await toJson(groupAnnounceOf(rt, group, new URL(post.ap_id))));
    // People mentioned in a public group hear of it from the author, members or not.
    if (post.origin !== 'local' || post.visibility !== 'public' || post.mentions.length === 0) return;
  }
  if (post.origin !== 'local') return;
  const username = localUsernameOf(rt, post.author_ap_id);
  if (!username) return;
  const mentions = await mentionsOf(rt, trx, post.mentions);
  // People never seen here are found by a job, then sent the post (discussions-mentions.ts).
  if (post.visibility === 'public') await enqueueMentionLookup(rt, trx, post, kind, unresolvedHandles(rt, post, mentions));
  const note = noteOf(rt, post, group, { mentions });
  const activity = await toJson(kind === 'create' ? createNoteOf(rt, note) : updateNoteOf(rt, note));
  if (group) {
    const inbox = group.origin === 'remote' ? (group.inbox ?? group.shared_inbox) : null;
    if (inbox) await enqueueToInbox(rt, trx, inbox, activity, username);
    // A members-only post goes to the group only: it decides who reads it.
    if (post.visibility === 'public')
      await enqueueToActors(
        rt,
        trx,
        mentions.map((m) => m.id),
        activity,
        username,
      );
    return;
  }
  const parentAuthor = post.in_reply_to ? await remoteAuthorOf(trx, post.in_reply_to) : undefined;
  await enqueueToActors(rt, trx, [...(parentAuthor ? [parentAuthor] : []), ...mentions.map((m) => m.id)], activity, username);
}

async function sendRemoval(rt: FederationRuntime, trx: Executor, postId: string, apId: string, byModerator: boolean): Promise<void> {
  const post = await findPostById(trx, postId);
  if (!post) return;
  const group = post.group_id ? await findGroupById(trx, post.group_id) : undefined;
  if (group?.origin === 'local') {
    const del = deleteNoteOf(rt, group.ap_id, apId, [new URL(`${group.ap_id}/followers`)]);
    await toMembers(rt, trx, group, await toJson(groupAnnounceOf(rt, group, del)));
    return;
  }
  // Only the author's own withdrawal leaves from here; a remote group's removal came from it.
  if (post.origin !== 'local' || byModerator) return;
  const username = localUsernameOf(rt, post.author_ap_id);
  if (!username) return;
  if (group) {
    const inbox = group.inbox ?? group.shared_inbox;
    const activity = await toJson(deleteNoteOf(rt, post.author_ap_id, apId, [new URL(group.ap_id)]));
    if (inbox) await enqueueToInbox(rt, trx, inbox, activity, username);
    return;
  }
  const parentAuthor = post.in_reply_to ? await remoteAuthorOf(trx, post.in_reply_to) : undefined;
  const activity = await toJson(deleteNoteOf(rt, post.author_ap_id, apId, [new URL('https://www.w3.org/ns/activitystreams#Public')]));
  if (parentAuthor) await enqueueToActors(rt, trx, [parentAuthor], activity, username);
}

async function sendMembership(
  rt: FederationRuntime,
  trx: Executor,
  groupId: string,
  actorApId: string,
  status: 'pending' | 'accepted' | 'banned' | null,
): Promise<void> {
  const group = await findGroupById(trx, groupId);
  if (!group) return;
  if (group.origin === 'local') {
    if (status === null && !isLocalId(rt, actorApId)) {
      // Refused or removed (the membership is gone): told with the Follow named by its actors.
      const actor = await getRemoteActor(trx, actorApId, 10 * 365 * 24 * 3600_000);
      if (actor) await enqueueToInbox(rt, trx, actor.inbox, await toJson(groupRejectOf(rt, group, actorApId)), group.username ?? undefined);
      return;
    }
    if (status !== 'accepted' && status !== 'banned') return;
    const m = await findMembership(trx, groupId, actorApId);
    if (!m || m.member_id || !m.inbox || !m.follow_activity_id) return;
    const answer = status === 'accepted' ? groupAcceptOf : groupRejectOf;
    await enqueueToInbox(rt, trx, m.inbox, await toJson(answer(rt, group, actorApId, m.follow_activity_id)), group.username ?? undefined);
    return;
  }
  const username = localUsernameOf(rt, actorApId);
  if (!username || !group.inbox) return;
  if (status === 'pending') {
    // A local person asks to join a remote group: their Follow, remembered to match the answer.
    const follow = await toJson(joinOf(rt, actorApId, group.ap_id));
    await setFollowActivityId(trx, groupId, actorApId, String(follow.id));
    await enqueueToInbox(rt, trx, group.inbox, follow, username);
  } else if (status === null) {
    await enqueueToInbox(rt, trx, group.inbox, await toJson(leaveOf(rt, actorApId, group.ap_id)), username);
  }
}

async function sendReport(rt: FederationRuntime, trx: Executor, reportId: string): Promise<void> {
  const report = await findReportById(trx, reportId);
  // A report received from another server is not sent back out.
  if (!report?.post_id || (/^https?:\/\//.test(report.reporter) && !isLocalId(rt, report.reporter))) return;
  const post = await findPostById(trx, report.post_id);
  if (post?.origin !== 'remote') return;
  const flag = await toJson(flagOf(rt, [post.ap_id, post.author_ap_id], report.reason));
  await enqueueToActors(rt, trx, [post.author_ap_id], flag);
  const group = post.group_id ? await findGroupById(trx, post.group_id) : undefined;
  const groupInbox = group?.origin === 'remote' ? (group.shared_inbox ?? group.inbox) : null;
  if (groupInbox) await enqueueToInbox(rt, trx, groupInbox, flag);
  await markReportForwarded(trx, report.id);
}

/** Subscribes to the discussion events and defines the address job (before the queue starts). */
export function registerDiscussionOutbox(rt: FederationRuntime): void {
  const { events, queue } = rt.app;
  queue.define<AddressJob>({ name: ADDRESS_QUEUE, retryLimit: 10, retryDelay: 30, handler: (data) => address(rt, data) });
  defineMentionLookup(rt);
  events.on('discussion.post.created', ({ postId }, trx) => sendPost(rt, trx, postId, 'create'));
  events.on('discussion.post.approved', ({ postId }, trx) => sendPost(rt, trx, postId, 'create'));
  events.on('discussion.post.updated', ({ postId }, trx) => sendPost(rt, trx, postId, 'update'));
  events.on('discussion.post.removed', ({ postId, apId, byModerator }, trx) => sendRemoval(rt, trx, postId, apId, byModerator));
  events.on('discussion.membership.changed', ({ groupId, actorApId, status }, trx) => sendMembership(rt, trx, groupId, actorApId, status));
  events.on('discussion.report.created', ({ reportId }, trx) => sendReport(rt, trx, reportId));
}
