// The activities discussions send. Accept and Reject of a membership get ids derived from the
// Follow they answer, so that a membership event published twice sends one answer (delivery ids
// come from activity ids); the others get a fresh id each.
import crypto from 'node:crypto';
import {
  Accept,
  type Activity,
  Announce,
  Create,
  Delete,
  Flag,
  Follow,
  type Note,
  PUBLIC_COLLECTION,
  Reject,
  Tombstone,
  Undo,
  Update,
} from '@fedify/vocab';
import type { GroupRow } from '../discussions/groups.repository.ts';
import { instant, newActivityId } from './activities.ts';
import type { FederationRuntime } from './runtime.ts';

const derivedId = (rt: FederationRuntime, kind: string, ...parts: string[]): URL =>
  new URL(`/ap/activities/${kind}-${crypto.createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32)}`, rt.urls.publicUrl);

const followersOf = (group: GroupRow): URL => new URL(`${group.ap_id}/followers`);

export function groupAcceptOf(rt: FederationRuntime, group: GroupRow, follower: string, followId: string): Accept {
  return new Accept({
    id: derivedId(rt, 'accept', group.ap_id, followId),
    actor: new URL(group.ap_id),
    object: new Follow({ id: new URL(followId), actor: new URL(follower), object: new URL(group.ap_id) }),
    to: new URL(follower),
  });
}

/** Without `followId` (the membership is gone), the Follow is named by its actor and object. */
export function groupRejectOf(rt: FederationRuntime, group: GroupRow, follower: string, followId?: string): Reject {
  return new Reject({
    id: followId ? derivedId(rt, 'reject', group.ap_id, followId) : newActivityId(rt.urls.publicUrl),
    actor: new URL(group.ap_id),
    object: new Follow({ ...(followId ? { id: new URL(followId) } : {}), actor: new URL(follower), object: new URL(group.ap_id) }),
    to: new URL(follower),
  });
}

/** The group relays a post (its id) or an activity (a Delete) to its members. */
export function groupAnnounceOf(rt: FederationRuntime, group: GroupRow, object: URL | Activity): Announce {
  const followers = followersOf(group);
  return new Announce({
    id: newActivityId(rt.urls.publicUrl),
    actor: new URL(group.ap_id),
    object,
    published: instant(new Date()),
    ...(group.visibility === 'public' ? { tos: [PUBLIC_COLLECTION, followers] } : { tos: [followers] }),
    audience: new URL(group.ap_id),
  });
}

/** A Delete of a post by `actor` (its author, or the group that removes it). */
export function deleteNoteOf(rt: FederationRuntime, actor: string, apId: string, tos: URL[], ccs: URL[] = []): Delete {
  return new Delete({
    id: newActivityId(rt.urls.publicUrl),
    actor: new URL(actor),
    object: new Tombstone({ id: new URL(apId), deleted: instant(new Date()) }),
    tos,
    ccs,
  });
}

export function createNoteOf(rt: FederationRuntime, note: Note): Create {
  return new Create({
    id: newActivityId(rt.urls.publicUrl),
    actor: note.attributionId,
    object: note,
    published: note.published,
    tos: note.toIds,
    ccs: note.ccIds,
  });
}

export function updateNoteOf(rt: FederationRuntime, note: Note): Update {
  return new Update({
    id: newActivityId(rt.urls.publicUrl),
    actor: note.attributionId,
    object: note,
    updated: note.updated ?? instant(new Date()),
    tos: note.toIds,
    ccs: note.ccIds,
  });
}

/** A local person asks to join a remote group. */
export function joinOf(rt: FederationRuntime, person: string, group: string): Follow {
  return new Follow({ id: newActivityId(rt.urls.publicUrl), actor: new URL(person), object: new URL(group), to: new URL(group) });
}

/** A local person leaves a remote group (the Follow is named by actor and object). */
export function leaveOf(rt: FederationRuntime, person: string, group: string, followId?: string): Undo {
  return new Undo({
    id: newActivityId(rt.urls.publicUrl),
    actor: new URL(person),
    object: new Follow({ ...(followId ? { id: new URL(followId) } : {}), actor: new URL(person), object: new URL(group) }),
    to: new URL(group),
  });
}

/** A report forwarded to the server of what is reported, as this instance (not the reporter). */
export function flagOf(rt: FederationRuntime, objects: string[], reason: string): Flag {
  return new Flag({
    id: newActivityId(rt.urls.publicUrl),
    actor: rt.urls.actor,
    objects: objects.map((o) => new URL(o)),
    content: reason,
  });
}
