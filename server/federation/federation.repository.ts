// Storage of the federation state: the networks we follow, our followers, remote actors seen,
// the blocklist and the health of receiving hosts.
import { type Kysely, sql } from 'kysely';
import type { Executor } from '../core/events.ts';
import type { Database } from '../db/schema.ts';
import type { FollowStatus } from './federation.tables.ts';

type Db = Kysely<Database> | Executor;

// --- Read caches ----------------------------------------------------------------------------
// Every incoming activity asks whether its actor is blocked, whether we follow it, and for the
// actor's name: three statements per activity for answers that change a few times a year. They
// are kept in memory, per database, for a short time. Any write to these tables in this process
// empties every cache (before and after the statement, so a read that raced the write is not
// kept); another process (PROCESS_ROLE=web beside a worker) sees a change within BLOCK_FOLLOW_MS.
// Reads inside a transaction are never cached (they may see what is rolled back).
const BLOCK_FOLLOW_MS = 1000;
const ACTOR_MS = 60_000;
const MEMO_MAX = 5000;
let generation = 0;
const memos = new WeakMap<object, Map<string, { value: unknown; until: number; generation: number }>>();

function forget(): void {
  generation++;
}

async function remembered<T>(db: Db, key: string, ttlMs: number, read: () => Promise<T>): Promise<T> {
  if (db.isTransaction) return read();
  let memo = memos.get(db);
  if (!memo) {
    memo = new Map();
    memos.set(db, memo);
  }
  const hit = memo.get(key);
  if (hit && hit.generation === generation && hit.until > Date.now()) return hit.value as T;
  const started = generation;
  const value = await read();
  if (started === generation) {
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(key, { value, until: Date.now() + ttlMs, generation: started });
  }
  return value;
}

/** Runs a write to the cached tables, emptying the caches before and after it. */
async function writing<T>(write: () => Promise<T>): Promise<T> {
  forget();
  try {
    return await write();
  } finally {
    forget();
  }
}

export interface RemoteActorInfo {
  id: string;
  handle: string | null;
  name: string | null;
  url: string | null;
  inbox: string;
  sharedInbox: string | null;
}

export async function saveRemoteActor(db: Db, actor: RemoteActorInfo): Promise<void> {
  const values = {
    id: actor.id,
    handle: actor.handle,
    name: actor.name,
    url: actor.url,
    inbox: actor.inbox,
    shared_inbox: actor.sharedInbox,
    fetched_at: new Date(),
  };
  await writing(() =>
    db
      .insertInto('federation_remote_actors')
      .values(values)
      .onConflict((oc) => oc.column('id').doUpdateSet(values))
      .execute(),
  );
}

export async function getRemoteActor(db: Db, id: string, maxAgeMs: number): Promise<RemoteActorInfo | undefined> {
  const row = await remembered(db, `actor ${id}`, ACTOR_MS, () =>
    db.selectFrom('federation_remote_actors').selectAll().where('id', '=', id).executeTakeFirst(),
  );
  if (!row || row.fetched_at.getTime() <= Date.now() - maxAgeMs) return undefined;
  return { id: row.id, handle: row.handle, name: row.name, url: row.url, inbox: row.inbox, sharedInbox: row.shared_inbox };
}

// --- Networks we follow -------------------------------------------------------------------

export async function insertFollow(
  db: Db,
  actor: RemoteActorInfo,
  followActivityId: string,
): Promise<{ id: string; status: FollowStatus; created: boolean }> {
  const existing = await db.selectFrom('federation_follows').select(['id', 'status']).where('actor_id', '=', actor.id).executeTakeFirst();
  if (existing && existing.status !== 'rejected') return { ...existing, created: false };
  const values = {
    actor_id: actor.id,
    handle: actor.handle,
    name: actor.name,
    inbox: actor.inbox,
    shared_inbox: actor.sharedInbox,
    follow_activity_id: followActivityId,
    status: 'pending' as const,
    updated_at: new Date(),
  };
  const row = await writing(() =>
    db
      .insertInto('federation_follows')
      .values(values)
      .onConflict((oc) => oc.column('actor_id').doUpdateSet(values))
      .returning(['id', 'status'])
      .executeTakeFirstOrThrow(),
  );
  return { ...row, created: true };
}

export function listFollows(db: Db) {
  return db.selectFrom('federation_follows').selectAll().orderBy('created_at', 'desc').execute();
}

export function getFollow(db: Db, id: string) {
  return db.selectFrom('federation_follows').selectAll().where('id', '=', id).executeTakeFirst();
}

export function getFollowByActor(db: Db, actorId: string) {
  return db.selectFrom('federation_follows').selectAll().where('actor_id', '=', actorId).executeTakeFirst();
}

export async function setFollowStatus(db: Db, actorId: string, status: FollowStatus): Promise<boolean> {
  const r = await writing(() =>
    db.updateTable('federation_follows').set({ status, updated_at: new Date() }).where('actor_id', '=', actorId).executeTakeFirst(),
  );
  return Number(r.numUpdatedRows) > 0;
}

export async function deleteFollow(db: Db, id: string): Promise<void> {
  await writing(() => db.deleteFrom('federation_follows').where('id', '=', id).execute());
}

/** True when we follow `actorId` and they accepted. */
export async function isFollowing(db: Db, actorId: string): Promise<boolean> {
  return remembered(db, `following ${actorId}`, BLOCK_FOLLOW_MS, async () => {
    const row = await db
      .selectFrom('federation_follows')
      .select('id')
      .where('actor_id', '=', actorId)
      .where('status', '=', 'accepted')
      .executeTakeFirst();
    return row !== undefined;
  });
}

// --- Our followers --------------------------------------------------------------------------

export async function upsertFollower(
  db: Db,
  actor: RemoteActorInfo,
  followActivityId: string,
  status: 'pending' | 'accepted',
): Promise<string> {
  const values = {
    actor_id: actor.id,
    handle: actor.handle,
    name: actor.name,
    inbox: actor.inbox,
    shared_inbox: actor.sharedInbox,
    host: new URL(actor.id).host,
    follow_activity_id: followActivityId,
    status,
  };
  const row = await db
    .insertInto('federation_followers')
    .values(values)
    .onConflict((oc) => oc.column('actor_id').doUpdateSet(values))
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export function listFollowers(db: Db, options: { status?: 'pending' | 'accepted'; limit?: number; offset?: number } = {}) {
  let q = db.selectFrom('federation_followers').selectAll().orderBy('created_at', 'desc').orderBy('id');
  if (options.status) q = q.where('status', '=', options.status);
  if (options.limit !== undefined) q = q.limit(options.limit);
  if (options.offset) q = q.offset(options.offset);
  return q.execute();
}

export async function countFollowers(db: Db): Promise<number> {
  const row = await db
    .selectFrom('federation_followers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'accepted')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function countFollows(db: Db): Promise<number> {
  const row = await db
    .selectFrom('federation_follows')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'accepted')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function getFollower(db: Db, id: string) {
  return db.selectFrom('federation_followers').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function setFollowerStatus(db: Db, id: string, status: 'pending' | 'accepted'): Promise<void> {
  await db.updateTable('federation_followers').set({ status }).where('id', '=', id).execute();
}

export async function deleteFollowerByActor(db: Db, actorId: string): Promise<boolean> {
  const r = await db.deleteFrom('federation_followers').where('actor_id', '=', actorId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function deleteFollower(db: Db, id: string): Promise<void> {
  await db.deleteFrom('federation_followers').where('id', '=', id).execute();
}

/**
 * One inbox per receiving server where it offers a shared inbox, else each follower's own inbox;
 * blocked hosts and actors left out.
 */
export async function deliveryInboxes(db: Db): Promise<string[]> {
  // Interleaved by host (the first inbox of every host, then the second...): a batch of jobs
  // then spreads over many hosts instead of queueing behind one host's limit.
  const rows = await sql<{ inbox: string }>`
    select inbox from (
      select inbox, host, row_number() over (partition by host order by inbox) as rank
      from (
        select distinct coalesce(f.shared_inbox, f.inbox) as inbox, f.host
        from federation_followers f
        where f.status = 'accepted'
          and not exists (select 1 from federation_blocks b where b.kind = 'host' and b.value = f.host)
          and not exists (select 1 from federation_blocks b where b.kind = 'actor' and b.value = f.actor_id)
      ) targets
    ) ranked
    order by rank, host, inbox`.execute(db);
  return rows.rows.map((r) => r.inbox);
}

// --- Blocklist ------------------------------------------------------------------------------

export async function addBlock(db: Db, kind: 'host' | 'actor', value: string): Promise<string> {
  await writing(() =>
    db
      .insertInto('federation_blocks')
      .values({ kind, value })
      .onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
      .execute(),
  );
  const row = await db
    .selectFrom('federation_blocks')
    .select('id')
    .where('kind', '=', kind)
    .where('value', '=', value)
    .executeTakeFirstOrThrow();
  return row.id;
}

export function listBlocks(db: Db) {
  return db.selectFrom('federation_blocks').selectAll().orderBy('created_at', 'desc').execute();
}

export async function deleteBlock(db: Db, id: string): Promise<boolean> {
  const r = await writing(() => db.deleteFrom('federation_blocks').where('id', '=', id).executeTakeFirst());
  return Number(r.numDeletedRows) > 0;
}

export async function isBlocked(db: Db, actorOrUrl: string): Promise<boolean> {
  let host: string;
  try {
    host = new URL(actorOrUrl).host;
  } catch {
    return false;
  }
  return remembered(db, `blocked ${actorOrUrl}`, BLOCK_FOLLOW_MS, async () => {
    const row = await db
      .selectFrom('federation_blocks')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([eb('kind', '=', 'host'), eb('value', '=', host)]),
          eb.and([eb('kind', '=', 'actor'), eb('value', '=', actorOrUrl)]),
        ]),
      )
      .executeTakeFirst();
    return row !== undefined;
  });
}

// --- Health of receiving hosts ---------------------------------------------------------------

export async function getHostState(db: Db, host: string) {
  return db.selectFrom('federation_delivery_hosts').selectAll().where('host', '=', host).executeTakeFirst();
}

export async function recordHostSuccess(db: Db, host: string): Promise<void> {
  const now = new Date();
  await db
    .insertInto('federation_delivery_hosts')
    .values({ host, failures: 0, last_success_at: now, unreachable_until: null })
    .onConflict((oc) => oc.column('host').doUpdateSet({ failures: 0, last_success_at: now, unreachable_until: null }))
    .execute();
}

/** One statement for every host that answered since the last call. */
export async function recordHostSuccesses(db: Db, hosts: string[]): Promise<void> {
  if (hosts.length === 0) return;
  const now = new Date();
  await db
    .insertInto('federation_delivery_hosts')
    .values(hosts.map((host) => ({ host, failures: 0, last_success_at: now, unreachable_until: null })))
    .onConflict((oc) => oc.column('host').doUpdateSet({ failures: 0, last_success_at: now, unreachable_until: null }))
    .execute();
}

/** Count a failure; after `threshold` in a row the host is left alone until `pauseMs` passed. */
export async function recordHostFailure(db: Db, host: string, threshold: number, pauseMs: number): Promise<number> {
  const now = new Date();
  const row = await db
    .insertInto('federation_delivery_hosts')
    .values({ host, failures: 1, last_failure_at: now })
    .onConflict((oc) => oc.column('host').doUpdateSet({ failures: sql`federation_delivery_hosts.failures + 1`, last_failure_at: now }))
    .returning('failures')
    .executeTakeFirstOrThrow();
  if (row.failures >= threshold) {
    await db
      .updateTable('federation_delivery_hosts')
      .set({ unreachable_until: new Date(now.getTime() + pauseMs) })
      .where('host', '=', host)
      .execute();
  }
  return row.failures;
}

export function listHosts(db: Db) {
  return db.selectFrom('federation_delivery_hosts').selectAll().orderBy('host').execute();
}
