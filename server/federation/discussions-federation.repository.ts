// The few reads and writes the federation of discussions needs beyond the discussions
// repositories: memberships by the Follow that asked for them, who wrote what a comment answers,
// remote actors already seen (by handle), and the servers hosting a group's members.
import type { Executor } from '../core/events.ts';

type Db = Executor;

/** The membership a Follow of ours (a local person joining a remote group) asked for. */
export function findMembershipByFollowId(db: Db, followActivityId: string) {
  return db
    .selectFrom('discussion_memberships as m')
    .innerJoin('discussion_groups as g', 'g.id', 'm.group_id')
    .select(['m.id', 'm.group_id', 'm.actor_ap_id', 'm.status', 'm.member_id', 'g.ap_id as group_ap_id', 'g.origin as group_origin'])
    .where('m.follow_activity_id', '=', followActivityId)
    .executeTakeFirst();
}

/** The pending or accepted membership of a local person in a remote group, by actor ids. */
export function findLocalMembershipInGroup(db: Db, groupApId: string, actorApId: string) {
  return db
    .selectFrom('discussion_memberships as m')
    .innerJoin('discussion_groups as g', 'g.id', 'm.group_id')
    .select(['m.group_id', 'm.actor_ap_id', 'm.status'])
    .where('g.ap_id', '=', groupApId)
    .where('m.actor_ap_id', '=', actorApId)
    .where('m.member_id', 'is not', null)
    .executeTakeFirst();
}

/** The author of what a comment answers, when that is a remote announcement or resource. */
export async function remoteAuthorOf(db: Db, apId: string): Promise<string | undefined> {
  const announcement = await db.selectFrom('announcements').select(['origin', 'actor_id']).where('ap_id', '=', apId).executeTakeFirst();
  if (announcement) return announcement.origin === 'remote' ? (announcement.actor_id ?? undefined) : undefined;
  const resource = await db.selectFrom('resources').select(['origin', 'actor_id']).where('ap_id', '=', apId).executeTakeFirst();
  if (resource) return resource.origin === 'remote' ? (resource.actor_id ?? undefined) : undefined;
  const post = await db.selectFrom('discussion_posts').select(['origin', 'author_ap_id']).where('ap_id', '=', apId).executeTakeFirst();
  return post?.origin === 'remote' ? post.author_ap_id : undefined;
}

/** Remote actors already seen, by handle (`name@host`): mentions are addressed without a lookup. */
export async function cachedActorIdsByHandle(db: Db, handles: string[]): Promise<Map<string, string>> {
  if (handles.length === 0) return new Map();
  const rows = await db.selectFrom('federation_remote_actors').select(['id', 'handle']).where('handle', 'in', handles).execute();
  return new Map(rows.map((r) => [r.handle as string, r.id]));
}

/** The hosts of a local group's accepted remote members (they may fetch its members-only posts). */
export async function memberHosts(db: Db, groupId: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('discussion_memberships')
    .select('host')
    .distinct()
    .where('group_id', '=', groupId)
    .where('status', '=', 'accepted')
    .execute();
  return new Set(rows.map((r) => r.host));
}

/** Remembers the Follow sent for a local person's membership of a remote group. */
export async function setFollowActivityId(db: Db, groupId: string, actorApId: string, followId: string): Promise<void> {
  await db
    .updateTable('discussion_memberships')
    .set({ follow_activity_id: followId, updated_at: new Date() })
    .where('group_id', '=', groupId)
    .where('actor_ap_id', '=', actorApId)
    .execute();
}
