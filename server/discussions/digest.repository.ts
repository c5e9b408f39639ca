// Storage of the email followers of groups (daily digest) and the reads the digest needs: the
// groups with active followers, who may receive a group's digest, and its new posts.
import { sql } from 'kysely';
import type { Executor } from '../core/events.ts';

type Db = Executor;

export interface FollowRow {
  groupId: string;
  subscriberId: string;
  status: 'pending' | 'active';
  createdAt: Date;
  confirmedAt: Date | null;
  lastSentAt: Date | null;
}

const followColumns = [
  'group_id as groupId',
  'subscriber_id as subscriberId',
  'status',
  'created_at as createdAt',
  'confirmed_at as confirmedAt',
  'last_sent_at as lastSentAt',
] as const;

export function findFollow(db: Db, groupId: string, subscriberId: string): Promise<FollowRow | undefined> {
  return db
    .selectFrom('discussion_email_followers')
    .select(followColumns)
    .where('group_id', '=', groupId)
    .where('subscriber_id', '=', subscriberId)
    .executeTakeFirst();
}

/** A pending follow (kept as it is when one exists already). */
export async function insertPendingFollow(db: Db, groupId: string, subscriberId: string): Promise<FollowRow> {
  await db
    .insertInto('discussion_email_followers')
    .values({ group_id: groupId, subscriber_id: subscriberId, status: 'pending' })
    .onConflict((oc) => oc.columns(['group_id', 'subscriber_id']).doNothing())
    .execute();
  return (await findFollow(db, groupId, subscriberId)) as FollowRow;
}

export async function activateFollow(db: Db, groupId: string, subscriberId: string, at: Date): Promise<boolean> {
  const r = await db
    .updateTable('discussion_email_followers')
    .set({ status: 'active', confirmed_at: at })
    .where('group_id', '=', groupId)
    .where('subscriber_id', '=', subscriberId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function deleteFollow(db: Db, groupId: string, subscriberId: string): Promise<boolean> {
  const r = await db
    .deleteFrom('discussion_email_followers')
    .where('group_id', '=', groupId)
    .where('subscriber_id', '=', subscriberId)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function markDigestSent(db: Db, groupId: string, subscriberIds: string[], at: Date): Promise<void> {
  if (subscriberIds.length === 0) return;
  await db
    .updateTable('discussion_email_followers')
    .set({ last_sent_at: at })
    .where('group_id', '=', groupId)
    .where('subscriber_id', 'in', subscriberIds)
    .execute();
}

/** The follows of one subscriber, with the group's name (export, "my data"). */
export function listFollowsOfSubscriber(db: Db, subscriberId: string) {
  return db
    .selectFrom('discussion_email_followers as f')
    .innerJoin('discussion_groups as g', 'g.id', 'f.group_id')
    .select([
      'g.name as group',
      'g.handle',
      'f.status',
      'f.created_at as createdAt',
      'f.confirmed_at as confirmedAt',
      'f.last_sent_at as lastSentAt',
    ])
    .where('f.subscriber_id', '=', subscriberId)
    .orderBy('f.created_at')
    .execute();
}

/** Groups (not deleted) that have at least one active email follower. */
export async function groupsWithFollowers(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('discussion_groups as g')
    .select('g.id')
    .where('g.deleted_at', 'is', null)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('discussion_email_followers as f')
          .select(sql`1`.as('one'))
          .whereRef('f.group_id', '=', 'g.id')
          .where('f.status', '=', 'active'),
      ),
    )
    .orderBy('g.id')
    .execute();
  return rows.map((r) => r.id);
}

export interface DigestRecipient {
  subscriberId: string;
  email: string;
  name: string | null;
  language: 'fr' | 'en';
  lastSentAt: Date | null;
  confirmedAt: Date | null;
}

/**
 * The active followers of a group who may receive its digest now. Addresses that bounce or were
 * erased never do. For a members-only group, only an address that belongs to an accepted member of
 * the group: checked at each send, so a member who left or was banned stops receiving it.
 */
/** `afterId`: keyset cursor (the last subscriber id of the previous page, '' for the first). */
export function digestRecipients(db: Db, groupId: string, visibility: 'public' | 'members', afterId: string, limit: number) {
  let q = db
    .selectFrom('discussion_email_followers as f')
    .innerJoin('subscribers as s', 's.id', 'f.subscriber_id')
    .select(['s.id as subscriberId', 's.email', 's.name', 's.language', 'f.last_sent_at as lastSentAt', 'f.confirmed_at as confirmedAt'])
    .where('f.group_id', '=', groupId)
    .where('f.status', '=', 'active')
    .where('s.status', 'not in', ['bouncing', 'erased'])
    .orderBy('s.id')
    .limit(limit);
  if (afterId) q = q.where('s.id', '>', afterId);
  if (visibility === 'members') {
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('discussion_memberships as m')
          .innerJoin('discussion_members as dm', 'dm.id', 'm.member_id')
          .select(sql`1`.as('one'))
          .where('m.group_id', '=', groupId)
          .where('m.status', '=', 'accepted')
          .whereRef('dm.email', '=', 's.email'),
      ),
    );
  }
  return q.execute() as Promise<DigestRecipient[]>;
}

/** Whether `email` belongs to an accepted member of the group (members-only groups). */
export async function isAcceptedMemberEmail(db: Db, groupId: string, email: string): Promise<boolean> {
  const row = await db
    .selectFrom('discussion_memberships as m')
    .innerJoin('discussion_members as dm', 'dm.id', 'm.member_id')
    .select('m.id')
    .where('m.group_id', '=', groupId)
    .where('m.status', '=', 'accepted')
    .where('dm.email', '=', email)
    .executeTakeFirst();
  return row !== undefined;
}

export interface DigestPost {
  id: string;
  threadId: string | null;
  threadTitle: string | null;
  title: string | null;
  depth: number;
  authorName: string;
  text: string;
  publishedAt: Date;
}

/** Visible posts of a group that became visible in (since, until], oldest first, at most `limit`, and how many in all. */
export async function postsBetween(
  db: Db,
  groupId: string,
  since: Date,
  until: Date,
  limit: number,
): Promise<{ posts: DigestPost[]; total: number }> {
  const base = db
    .selectFrom('discussion_posts as p')
    .where('p.group_id', '=', groupId)
    .where('p.status', '=', 'visible')
    // By when it became visible here, so that a post approved late, or received late, is not missed.
    .where('p.visible_at', '>', since)
    .where('p.visible_at', '<=', until);
  const posts = await base
    .leftJoin('discussion_posts as t', 't.id', 'p.thread_id')
    .select([
      'p.id',
      'p.thread_id as threadId',
      't.title as threadTitle',
      'p.title',
      'p.depth',
      'p.author_name as authorName',
      'p.content_text as text',
      'p.published_at as publishedAt',
    ])
    .orderBy('p.published_at')
    .orderBy('p.id')
    .limit(limit)
    .execute();
  const total =
    posts.length < limit ? posts.length : Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { posts, total };
}
