// Storage of groups: local ones (with their Group actor) and remote ones local people joined.
import type { Selectable } from 'kysely';
import type { Executor } from '../core/events.ts';
import type { DiscussionGroupsTable, Visibility } from './discussions.tables.ts';

type Db = Executor;

/** A group row, with the username of its actor for local groups (null for remote ones). */
export type GroupRow = Selectable<DiscussionGroupsTable> & { username: string | null };

function selectGroups(db: Db) {
  return db
    .selectFrom('discussion_groups as g')
    .leftJoin('local_actors as a', 'a.id', 'g.actor_id')
    .selectAll('g')
    .select('a.username as username')
    .where('g.deleted_at', 'is', null);
}

export function findGroupById(db: Db, id: string): Promise<GroupRow | undefined> {
  return selectGroups(db).where('g.id', '=', id).executeTakeFirst();
}

/** A group even when it was closed (to tell its members' servers that it was). */
export function findGroupByIdEvenClosed(db: Db, id: string): Promise<GroupRow | undefined> {
  return db
    .selectFrom('discussion_groups as g')
    .leftJoin('local_actors as a', 'a.id', 'g.actor_id')
    .selectAll('g')
    .select('a.username as username')
    .where('g.id', '=', id)
    .executeTakeFirst();
}

export function findGroupByApId(db: Db, apId: string): Promise<GroupRow | undefined> {
  return selectGroups(db).where('g.ap_id', '=', apId).executeTakeFirst();
}

export function findLocalGroupByUsername(db: Db, username: string): Promise<GroupRow | undefined> {
  return selectGroups(db).where('g.origin', '=', 'local').where('a.username', '=', username).executeTakeFirst();
}

/** Groups, most recently active first; remote groups (joined by local people) only when asked. */
export function listGroups(db: Db, options: { includeRemote: boolean; limit?: number; offset?: number }): Promise<GroupRow[]> {
  let q = selectGroups(db).orderBy('g.last_activity_at', 'desc').orderBy('g.id');
  if (!options.includeRemote) q = q.where('g.origin', '=', 'local');
  if (options.limit !== undefined) q = q.limit(options.limit);
  if (options.offset) q = q.offset(options.offset);
  return q.execute();
}

export interface NewLocalGroup {
  actorId: string;
  apId: string;
  handle: string;
  name: string;
  summary: string;
  visibility: Visibility;
  joinPolicy: 'open' | 'approval';
}

export async function insertLocalGroup(db: Db, g: NewLocalGroup): Promise<string> {
  const row = await db
    .insertInto('discussion_groups')
    .values({
      actor_id: g.actorId,
      ap_id: g.apId,
      origin: 'local',
      handle: g.handle,
      name: g.name,
      summary: g.summary,
      visibility: g.visibility,
      join_policy: g.joinPolicy,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updateLocalGroup(
  db: Db,
  id: string,
  changes: { name?: string; summary?: string; visibility?: Visibility; joinPolicy?: 'open' | 'approval' },
): Promise<void> {
  const set: Record<string, unknown> = {};
  if (changes.name !== undefined) set.name = changes.name;
  if (changes.summary !== undefined) set.summary = changes.summary;
  if (changes.visibility !== undefined) set.visibility = changes.visibility;
  if (changes.joinPolicy !== undefined) set.join_policy = changes.joinPolicy;
  if (Object.keys(set).length === 0) return;
  await db.updateTable('discussion_groups').set(set).where('id', '=', id).execute();
}

export interface RemoteGroupInput {
  apId: string;
  handle: string;
  name: string;
  summary?: string;
  inbox: string;
  sharedInbox?: string | null;
  visibility?: Visibility;
}

/** Records (or refreshes) a remote group that a local person joins; returns the row. */
export async function upsertRemoteGroup(db: Db, g: RemoteGroupInput): Promise<GroupRow> {
  const values = {
    ap_id: g.apId,
    origin: 'remote' as const,
    handle: g.handle,
    name: g.name,
    summary: g.summary ?? '',
    inbox: g.inbox,
    shared_inbox: g.sharedInbox ?? null,
    visibility: g.visibility ?? 'public',
    deleted_at: null,
  };
  await db
    .insertInto('discussion_groups')
    .values(values)
    .onConflict((oc) => oc.column('ap_id').doUpdateSet(values))
    .execute();
  return (await findGroupByApId(db, g.apId)) as GroupRow;
}

export async function touchGroupActivity(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('discussion_groups').set({ last_activity_at: at }).where('id', '=', id).where('last_activity_at', '<', at).execute();
}

export async function markGroupDeleted(db: Db, id: string): Promise<void> {
  await db.updateTable('discussion_groups').set({ deleted_at: new Date() }).where('id', '=', id).execute();
}
