import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { StartupError } from '../../server/core/errors.ts';
import { openDatabase } from '../../server/db/database.ts';
import { isMigrated, migrateToLatest } from '../../server/db/migrate.ts';
import { openTestDatabase, type TestDatabase, usingPostgres } from '../helpers/database.ts';

const opened: TestDatabase[] = [];
afterEach(async () => {
  for (const handle of opened.splice(0)) await handle.close();
});

async function fresh(): Promise<TestDatabase> {
  const handle = await openTestDatabase();
  opened.push(handle);
  return handle;
}

describe(`migrations (${usingPostgres() ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('creates the schema on an empty database, and a second run changes nothing', async () => {
    const { db } = await fresh();
    expect(await isMigrated(db)).toBe(false);
    const first = await migrateToLatest(db);
    expect(first.applied.length).toBeGreaterThan(0);
    expect(await isMigrated(db)).toBe(true);
    const tables = await sql<{
      table_name: string;
    }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(db);
    expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['users', 'sessions', 'api_tokens', 'settings']));
    const second = await migrateToLatest(db);
    expect(second.applied).toEqual([]);
  });

  it('refuses a database migrated by a newer version, and changes nothing', async () => {
    const { db } = await fresh();
    await migrateToLatest(db);
    await sql`insert into kysely_migration (name, timestamp) values ('2999-01-01-0001-future', now())`.execute(db);
    await expect(migrateToLatest(db)).rejects.toThrow(StartupError);
    await expect(migrateToLatest(db)).rejects.toThrow(/newer schema than this program/);
    const count = await sql<{ n: number }>`select count(*)::int as n from kysely_migration`.execute(db);
    expect(count.rows[0]?.n).toBeGreaterThan(1);
  });

  it.runIf(usingPostgres())('applies each migration once when two processes migrate at the same time', async () => {
    const target = await fresh();
    const other = await openDatabase({ databaseUrl: target.url, dataDir: '' });
    try {
      const [a, b] = await Promise.all([migrateToLatest(target.db), migrateToLatest(other.db)]);
      // One of them applied everything; the other, waiting on the lock, found nothing left to do.
      expect([a.applied.length, b.applied.length].sort()).toEqual([0, a.applied.length + b.applied.length]);
      const rows = await sql<{ name: string; n: number }>`select name, count(*)::int as n from kysely_migration group by name`.execute(
        target.db,
      );
      expect(rows.rows.every((r) => r.n === 1)).toBe(true);
      expect(await isMigrated(target.db)).toBe(true);
    } finally {
      await other.close();
    }
  });
});
