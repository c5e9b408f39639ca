// Following other networks and managing our followers. A remote lookup happens before any
// transaction (network I/O never holds the database); what is stored and the activity that tells
// the other side are committed together, and the activity leaves through the delivery queue.
import { AppError } from '../core/errors.ts';
import { acceptOf, followOf, rejectOf, toJson, undoFollowOf } from './activities.ts';
import { enqueueToInbox } from './delivery.ts';
import {
  addBlock,
  deleteFollow,
  deleteFollower,
  getFollow,
  getFollower,
  insertFollow,
  isBlocked,
  setFollowerStatus,
} from './federation.repository.ts';
import { resolveTarget } from './remote-actors.ts';
import type { FederationRuntime } from './runtime.ts';

export async function followTarget(rt: FederationRuntime, target: string): Promise<{ id: string; created: boolean }> {
  const actor = await resolveTarget(rt, target);
  if (actor.id === rt.urls.actor.href) throw new AppError('validation_failed', 'This instance cannot follow itself.');
  if (await isBlocked(rt.app.db, actor.id)) throw new AppError('validation_failed', `${actor.handle ?? actor.id} is on the blocklist.`);
  const follow = await toJson(followOf(actor.id, rt.urls));
  return rt.app.db.transaction().execute(async (trx) => {
    const result = await insertFollow(trx, actor, String(follow.id));
    if (result.created) await enqueueToInbox(rt, trx, actor.inbox, follow);
    return { id: result.id, created: result.created };
  });
}

export async function unfollow(rt: FederationRuntime, id: string): Promise<void> {
  const follow = await getFollow(rt.app.db, id);
  if (!follow) throw new AppError('not_found', 'This follow does not exist.');
  const undo = await toJson(undoFollowOf(follow.actor_id, follow.follow_activity_id, rt.urls));
  await rt.app.db.transaction().execute(async (trx) => {
    await deleteFollow(trx, id);
    await enqueueToInbox(rt, trx, follow.inbox, undo);
  });
}

export async function acceptFollower(rt: FederationRuntime, id: string): Promise<void> {
  const follower = await getFollower(rt.app.db, id);
  if (!follower) throw new AppError('not_found', 'This follower does not exist.');
  if (follower.status === 'accepted') return;
  const accept = await toJson(acceptOf(follower.actor_id, follower.follow_activity_id, rt.urls));
  await rt.app.db.transaction().execute(async (trx) => {
    await setFollowerStatus(trx, id, 'accepted');
    await enqueueToInbox(rt, trx, follower.inbox, accept);
  });
}

/** Refuse a pending follower, or remove an accepted one: either way they receive a Reject. */
export async function rejectFollower(rt: FederationRuntime, id: string): Promise<void> {
  const follower = await getFollower(rt.app.db, id);
  if (!follower) throw new AppError('not_found', 'This follower does not exist.');
  const reject = await toJson(rejectOf(follower.actor_id, follower.follow_activity_id, rt.urls));
  await rt.app.db.transaction().execute(async (trx) => {
    await deleteFollower(trx, id);
    await enqueueToInbox(rt, trx, follower.inbox, reject);
  });
}

/** `example.org` blocks a server; an actor URL blocks one actor. */
export function parseBlock(value: string): { kind: 'host' | 'actor'; value: string } {
  const text = value.trim();
  if (/^https?:\/\//i.test(text)) {
    try {
      return { kind: 'actor', value: new URL(text).href };
    } catch {
      throw new AppError('validation_failed', 'This URL is not valid.');
    }
  }
  const host = text.replace(/^@?[^@]+@/, '').toLowerCase();
  if (!/^[a-z0-9.-]+(:\d{1,5})?$/.test(host)) {
    throw new AppError('validation_failed', 'Give a server name such as example.org, or the URL of an actor.');
  }
  return { kind: 'host', value: host };
}

export async function block(rt: FederationRuntime, value: string): Promise<{ id: string; kind: 'host' | 'actor'; value: string }> {
  const parsed = parseBlock(value);
  const id = await addBlock(rt.app.db, parsed.kind, parsed.value);
  return { id, ...parsed };
}
