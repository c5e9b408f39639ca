// A start on a database that has every migration must not build Kysely's migrator (it reads the
// definition of every table: a second and hundreds of MB on the embedded database), and the
// health check's "migrated?" must not either. Both count the queries they send.
import { type Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { isMigrated, migrateToLatest } from '../../server/db/migrate.ts';
import { openTestDatabase, type TestDatabase, usingPostgres } from '../helpers/database.ts';

const opened: TestDatabase[] = [];
afterEach(async () => {
  for (const handle of opened.splice(0)) await handle.close();
});

/** The same database, counting the statements sent through it. */
function counting(db: Kysely<any>): { db: Kysely<any>; statements: () => number } {
  let n = 0;
  const counted = db.withPlugin({
    transformQuery: (args) => {
      n++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  });
  return { db: counted, statements: () => n };
}

describe(`migrations when nothing is pending (${usingPostgres() ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('asks two small questions instead of introspecting, and still runs the migrator when one is missing', async () => {
    const handle = await openTestDatabase();
    opened.push(handle);
    const first = counting(handle.db);
    expect((await migrateToLatest(first.db)).applied.length).toBeGreaterThan(0);
    // The migrator's introspection and locking: dozens of statements.
    expect(first.statements()).toBeGreaterThan(10);

    const second = counting(handle.db);
    expect(await migrateToLatest(second.db)).toEqual({ applied: [] });
    expect(second.statements()).toBe(2);
    const health = counting(handle.db);
    expect(await isMigrated(health.db)).toBe(true);
    expect(health.statements()).toBe(2);

    // Forget the last migration: it is pending again, so the migrator runs (and fails here, its
    // tables being there already) instead of the start going on as if nothing were missing.
    const last = await sql<{ name: string }>`select name from kysely_migration order by name desc limit 1`.execute(handle.db);
    const name = last.rows[0]!.name;
    await sql`delete from kysely_migration where name = ${name}`.execute(handle.db);
    expect(await isMigrated(handle.db)).toBe(false);
    await expect(migrateToLatest(handle.db)).rejects.toThrow(new RegExp(`Migration ${name} failed and was rolled back`));
    await sql`insert into kysely_migration (name, timestamp) values (${name}, now())`.execute(handle.db);
    expect(await isMigrated(handle.db)).toBe(true);
  });
});
