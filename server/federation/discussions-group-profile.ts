// A local group's profile travels to its members' servers: an edit (name, summary, visibility,
// join policy) goes out as Update(Group) with the new actor document, a closure as Delete(Group).
// The actor document is built by Fedify from the database, which must not be read beside an open
// transaction on the embedded database: the event only records a job, and the job builds the
// activity, then records one delivery per member server. Received: an Update(Group) from the group
// itself refreshes the copy of a remote group; its Delete closes that copy.
import { Delete, Group, PUBLIC_COLLECTION, Update } from '@fedify/vocab';
import type { Executor } from '../core/events.ts';
import '../discussions/discussions.events.ts';
import { findGroupByApId, findGroupByIdEvenClosed, markGroupDeleted, upsertRemoteGroup } from '../discussions/groups.repository.ts';
import { newActivityId, toJson } from './activities.ts';
import { localActorDocument } from './discussions-actors.ts';
import { toMembers } from './discussions-outbox.ts';
import type { FederationRuntime } from './runtime.ts';

export const GROUP_PROFILE_QUEUE = 'federation.discussions.group-profile';

interface GroupProfileJob {
  groupId: string;
  kind: 'update' | 'delete';
}

async function send(rt: FederationRuntime, job: GroupProfileJob): Promise<void> {
  const group = await findGroupByIdEvenClosed(rt.app.db, job.groupId);
  if (group?.origin !== 'local' || !group.username) return;
  if (job.kind === 'update' && group.deleted_at) return;
  const groupId = new URL(group.ap_id);
  const followers = new URL(`${group.ap_id}/followers`);
  let activity: Update | Delete;
  if (job.kind === 'update') {
    const context = rt.federation.createContext(new URL(rt.urls.publicUrl), rt);
    const actor = await localActorDocument(context, group.username);
    if (!actor) return;
    activity = new Update({ id: newActivityId(rt.urls.publicUrl), actor: groupId, object: actor, tos: [PUBLIC_COLLECTION, followers] });
  } else {
    activity = new Delete({ id: newActivityId(rt.urls.publicUrl), actor: groupId, object: groupId, tos: [PUBLIC_COLLECTION, followers] });
  }
  const json = await toJson(activity);
  await rt.app.db.transaction().execute((trx) => toMembers(rt, trx, group, json));
}

async function record(rt: FederationRuntime, trx: Executor, job: GroupProfileJob): Promise<void> {
  await rt.app.queue.send<GroupProfileJob>(GROUP_PROFILE_QUEUE, job, { trx });
}

export function registerGroupProfileOutbox(rt: FederationRuntime): void {
  rt.app.queue.define<GroupProfileJob>({ name: GROUP_PROFILE_QUEUE, retryLimit: 8, retryDelay: 30, handler: (data) => send(rt, data) });
  rt.app.events.on('discussion.group.updated', ({ groupId }, trx) => record(rt, trx, { groupId, kind: 'update' }));
  rt.app.events.on('discussion.group.closed', ({ groupId }, trx) => record(rt, trx, { groupId, kind: 'delete' }));
}

/** An Update whose object is the sending group itself: true when it was a known remote group's. */
export async function onGroupProfileUpdate(rt: FederationRuntime, actorId: string | undefined, object: unknown): Promise<boolean> {
  if (!(object instanceof Group) || !object.id || object.id.href !== actorId) return false;
  const known = await findGroupByApId(rt.app.db, object.id.href);
  if (known?.origin !== 'remote') return true; // not a group anyone here joined: nothing to keep
  const summary = (object.summary?.toString() ?? '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  await upsertRemoteGroup(rt.app.db, {
    apId: known.ap_id,
    handle: known.handle,
    name: object.name?.toString().slice(0, 200) || known.name,
    summary: summary.slice(0, 2000),
    inbox: object.inboxId?.href ?? known.inbox ?? '',
    sharedInbox: object.endpoints?.sharedInbox?.href ?? known.shared_inbox,
    // A members-only group hides itself from directories (discussions-actors.ts).
    visibility: object.discoverable === false ? 'members' : 'public',
  });
  return true;
}

/** A Delete of the sending group itself: the copy of that remote group is closed. */
export async function onGroupDeleted(rt: FederationRuntime, actorId: string | undefined, objectId: string | undefined): Promise<boolean> {
  if (!actorId || actorId !== objectId) return false;
  const known = await findGroupByApId(rt.app.db, actorId);
  if (known?.origin !== 'remote') return false;
  await markGroupDeleted(rt.app.db, known.id);
  return true;
}
