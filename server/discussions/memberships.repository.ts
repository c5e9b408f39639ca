// Storage of memberships: who belongs to a group (local people by their Person actor, or remote
// actors), with their role and status (pending, accepted, banned).
import { type Selectable, sql } from 'kysely';
import type { Executor } from '../core/events.ts';
import type { DiscussionMembershipsTable, MembershipStatus } from './discussions.tables.ts';

type Db = Executor;

export type MembershipRow = Selectable<DiscussionMembershipsTable>;

export function findMembership(db: Db, groupId: string, actorApId: string): Promise<MembershipRow | undefined> {
  return db
    .selectFrom('discussion_memberships')
    .selectAll()
    .where('group_id', '=', groupId)
    .where('actor_ap_id', '=', actorApId)
    .executeTakeFirst();
}

export interface MembershipInput {
  groupId: string;
  actorApId: string;
  memberId?: string | null;
  handle?: string | null;
  name?: string | null;
  inbox?: string | null;
  sharedInbox?: string | null;
  /** Defaults to the host of actorApId. */
  host?: string;
  role?: 'member' | 'moderator';
  status: MembershipStatus;
  followActivityId?: string | null;
}

/**
 * Creates or updates a membership. A banned membership stays banned: a new Follow (or join) of a
 * banned actor must not lift the ban, so the status is then left as it is.
 */
export async function upsertMembership(db: Db, m: MembershipInput): Promise<MembershipRow> {
  const now = new Date();
  const values = {
    group_id: m.groupId,
    actor_ap_id: m.actorApId,
    member_id: m.memberId ?? null,
    handle: m.handle ?? null,
    name: m.name ?? null,
    inbox: m.inbox ?? null,
    shared_inbox: m.sharedInbox ?? null,
    host: m.host ?? new URL(m.actorApId).host,
    status: m.status,
    follow_activity_id: m.followActivityId ?? null,
    updated_at: now,
    ...(m.role ? { role: m.role } : {}),
  };
  const { group_id: _g, actor_ap_id: _a, ...update } = values;
  return db
    .insertInto('discussion_memberships')
    .values(values)
    .onConflict((oc) =>
      oc.columns(['group_id', 'actor_ap_id']).doUpdateSet({
        ...update,
        status: sql`case when discussion_memberships.status = 'banned' then 'banned' else excluded.status end`,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function setMembershipStatus(db: Db, groupId: string, actorApId: string, status: MembershipStatus): Promise<boolean> {
  const r = await db
    .updateTable('discussion_memberships')
    .set({ status, updated_at: new Date() })
    .where('group_id', '=', groupId)
    .where('actor_ap_id', '=', actorApId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function setMembershipRole(db: Db, groupId: string, actorApId: string, role: 'member' | 'moderator'): Promise<boolean> {
  const r = await db
    .updateTable('discussion_memberships')
    .set({ role, updated_at: new Date() })
    .where('group_id', '=', groupId)
    .where('actor_ap_id', '=', actorApId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function deleteMembership(db: Db, groupId: string, actorApId: string): Promise<boolean> {
  const r = await db
    .deleteFrom('discussion_memberships')
    .where('group_id', '=', groupId)
    .where('actor_ap_id', '=', actorApId)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export function listMemberships(
  db: Db,
  groupId: string,
  options: { status?: MembershipStatus; limit: number; offset: number },
): Promise<MembershipRow[]> {
  let q = db.selectFrom('discussion_memberships').selectAll().where('group_id', '=', groupId);
  if (options.status) q = q.where('status', '=', options.status);
  return q.orderBy('created_at').orderBy('id').limit(options.limit).offset(options.offset).execute();
}

export async function countMemberships(db: Db, groupId: string, status: MembershipStatus = 'accepted'): Promise<number> {
  const row = await db
    .selectFrom('discussion_memberships')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('group_id', '=', groupId)
    .where('status', '=', status)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Inboxes of the accepted remote members (local people have no inbox), for the group's fan-out. */
export async function listMemberInboxes(
  db: Db,
  groupId: string,
): Promise<Array<{ inbox: string; shared_inbox: string | null; host: string }>> {
  const rows = await db
    .selectFrom('discussion_memberships')
    .select(['inbox', 'shared_inbox', 'host'])
    .where('group_id', '=', groupId)
    .where('status', '=', 'accepted')
    .where('member_id', 'is', null)
    .where('inbox', 'is not', null)
    .orderBy('host')
    .execute();
  return rows.map((r) => ({ inbox: r.inbox as string, shared_inbox: r.shared_inbox, host: r.host }));
}

/** Actor ids of the group's accepted moderators (listed in the Group's attributedTo). */
export async function listModerators(db: Db, groupId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('discussion_memberships')
    .select('actor_ap_id')
    .where('group_id', '=', groupId)
    .where('role', '=', 'moderator')
    .where('status', '=', 'accepted')
    .orderBy('created_at')
    .execute();
  return rows.map((r) => r.actor_ap_id);
}

/** The memberships of one local member, with their group's name (for export and "my groups"). */
export function listMembershipsOfMember(db: Db, memberId: string) {
  return db
    .selectFrom('discussion_memberships as m')
    .innerJoin('discussion_groups as g', 'g.id', 'm.group_id')
    .select([
      'm.group_id',
      'g.ap_id as group_ap_id',
      'g.name as group_name',
      'g.handle as group_handle',
      'm.role',
      'm.status',
      'm.created_at',
    ])
    .where('m.member_id', '=', memberId)
    .orderBy('m.created_at')
    .execute();
}

export async function deleteMembershipsOfMember(db: Db, memberId: string): Promise<Array<{ group_id: string; actor_ap_id: string }>> {
  return db.deleteFrom('discussion_memberships').where('member_id', '=', memberId).returning(['group_id', 'actor_ap_id']).execute();
}
