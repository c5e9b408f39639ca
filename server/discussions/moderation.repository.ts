// Storage of moderation: the log of every action, reports, and bans (by actor or by server).
import { type Selectable, sql } from 'kysely';
import type { Executor } from '../core/events.ts';
import type { DiscussionBansTable, DiscussionReportsTable, ModerationLogTable } from './discussions.tables.ts';

type Db = Executor;

export type ReportRow = Selectable<DiscussionReportsTable>;
export type BanRow = Selectable<DiscussionBansTable>;
export type ModerationLogRow = Selectable<ModerationLogTable>;

export async function insertModerationLog(
  db: Db,
  entry: { moderator: string; action: string; target: string; groupId?: string | null; reason: string },
): Promise<void> {
  await db
    .insertInto('moderation_log')
    .values({
      moderator: entry.moderator,
      action: entry.action,
      target: entry.target,
      group_id: entry.groupId ?? null,
      reason: entry.reason,
    })
    .execute();
}

export function listModerationLog(db: Db, options: { groupId?: string; limit: number; offset: number }): Promise<ModerationLogRow[]> {
  let q = db.selectFrom('moderation_log').selectAll();
  if (options.groupId) q = q.where('group_id', '=', options.groupId);
  return q.orderBy('at', 'desc').orderBy('id').limit(options.limit).offset(options.offset).execute();
}

export function insertReport(db: Db, r: { postId: string | null; postApId: string; reporter: string; reason: string }): Promise<ReportRow> {
  return db
    .insertInto('discussion_reports')
    .values({ post_id: r.postId, post_ap_id: r.postApId, reporter: r.reporter, reason: r.reason })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function findReportById(db: Db, id: string): Promise<ReportRow | undefined> {
  return db.selectFrom('discussion_reports').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listReports(
  db: Db,
  options: { status?: 'open' | 'resolved' | 'dismissed'; limit: number; offset: number },
): Promise<ReportRow[]> {
  let q = db.selectFrom('discussion_reports').selectAll();
  if (options.status) q = q.where('status', '=', options.status);
  return q.orderBy('created_at', 'desc').orderBy('id').limit(options.limit).offset(options.offset).execute();
}

export async function setReportStatus(db: Db, id: string, status: 'resolved' | 'dismissed'): Promise<boolean> {
  const r = await db.updateTable('discussion_reports').set({ status, resolved_at: new Date() }).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function markReportForwarded(db: Db, id: string): Promise<void> {
  await db.updateTable('discussion_reports').set({ forwarded: true }).where('id', '=', id).execute();
}

/** Records a ban (idempotent); group null = every group of the instance. */
export async function insertBan(
  db: Db,
  b: { groupId: string | null; kind: 'actor' | 'host'; value: string; moderator: string; reason: string },
): Promise<void> {
  const existing = await db
    .selectFrom('discussion_bans')
    .select('id')
    .where(
      sql<boolean>`coalesce(group_id, '00000000-0000-0000-0000-000000000000'::uuid) = coalesce(${b.groupId}::uuid, '00000000-0000-0000-0000-000000000000'::uuid)`,
    )
    .where('kind', '=', b.kind)
    .where('value', '=', b.value)
    .executeTakeFirst();
  if (existing) return;
  await db
    .insertInto('discussion_bans')
    .values({ group_id: b.groupId, kind: b.kind, value: b.value, moderator: b.moderator, reason: b.reason })
    .execute();
}

export async function deleteBan(db: Db, id: string): Promise<BanRow | undefined> {
  return db.deleteFrom('discussion_bans').where('id', '=', id).returningAll().executeTakeFirst();
}

export function listBans(db: Db, options: { groupId?: string } = {}): Promise<BanRow[]> {
  let q = db.selectFrom('discussion_bans').selectAll();
  if (options.groupId) q = q.where((eb) => eb.or([eb('group_id', '=', options.groupId as string), eb('group_id', 'is', null)]));
  return q.orderBy('created_at', 'desc').execute();
}

/**
 * True when the actor is banned from the group (or from every group): by their actor id or by
 * their server; a banned membership counts too.
 */
export async function isBannedFrom(db: Db, groupId: string | null, actorApId: string): Promise<boolean> {
  let host = '';
  try {
    host = new URL(actorApId).host;
  } catch {
    return false;
  }
  let q = db
    .selectFrom('discussion_bans')
    .select('id')
    .where((eb) =>
      eb.or([eb.and([eb('kind', '=', 'actor'), eb('value', '=', actorApId)]), eb.and([eb('kind', '=', 'host'), eb('value', '=', host)])]),
    );
  q = groupId ? q.where((eb) => eb.or([eb('group_id', 'is', null), eb('group_id', '=', groupId)])) : q.where('group_id', 'is', null);
  if (await q.executeTakeFirst()) return true;
  if (!groupId) return false;
  const membership = await db
    .selectFrom('discussion_memberships')
    .select('id')
    .where('group_id', '=', groupId)
    .where('actor_ap_id', '=', actorApId)
    .where('status', '=', 'banned')
    .executeTakeFirst();
  return membership !== undefined;
}

/** A server is trusted when we follow one of its actors or one of its actors follows us (accepted). */
export async function isTrustedHost(db: Db, host: string): Promise<boolean> {
  const followed = await db
    .selectFrom('federation_follows')
    .select('id')
    .where('status', '=', 'accepted')
    .where(sql<boolean>`split_part(actor_id, '/', 3) = ${host}`)
    .executeTakeFirst();
  if (followed) return true;
  const follower = await db
    .selectFrom('federation_followers')
    .select('id')
    .where('status', '=', 'accepted')
    .where('host', '=', host)
    .executeTakeFirst();
  return follower !== undefined;
}

export function findBanById(db: Db, id: string): Promise<BanRow | undefined> {
  return db.selectFrom('discussion_bans').selectAll().where('id', '=', id).executeTakeFirst();
}
