// Instance-wide settings (a key and a JSON value) and the fixed-window counters of the rate
// limiter. Both live in the database so that several processes of one instance agree.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.ts';

type Db = Kysely<Database>;

export async function getSetting<T>(db: Db, key: string): Promise<T | undefined> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  return row === undefined ? undefined : (row.value as T);
}

/** Stores the value unless the key exists; returns the value that is stored in the end. */
export async function putSettingIfAbsent<T>(db: Db, key: string, value: T): Promise<T> {
  await db
    .insertInto('settings')
    .values({ key, value: JSON.stringify(value) })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  return (await getSetting<T>(db, key)) as T;
}

export async function listSettingsWithPrefix<T>(db: Db, prefix: string): Promise<Array<{ key: string; value: T }>> {
  const rows = await db.selectFrom('settings').select(['key', 'value']).where('key', 'like', `${prefix}%`).execute();
  return rows.map((r) => ({ key: r.key, value: r.value as T }));
}

export async function deleteSettingsWithPrefix(db: Db, prefix: string): Promise<void> {
  await db.deleteFrom('settings').where('key', 'like', `${prefix}%`).execute();
}

/** Counts one hit for `key` in the window starting at `windowStart`; returns the hits so far. */
export async function hitRateLimit(db: Db, key: string, windowStart: Date): Promise<number> {
  const row = await db
    .insertInto('rate_limits')
    .values({ key, window_start: windowStart, hits: 1 })
    .onConflict((oc) => oc.columns(['key', 'window_start']).doUpdateSet({ hits: sql`rate_limits.hits + 1` }))
    .returning('hits')
    .executeTakeFirstOrThrow();
  return Number(row.hits);
}

export async function resetRateLimit(db: Db, key: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', key).execute();
}

export async function deleteOldRateLimits(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('rate_limits').where('window_start', '<', before).execute();
}
