// The embedded database has one connection shared by Kysely and the job queue. These tests pin
// down that a Kysely transaction is isolated from queries issued beside it on that connection.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../server/db/database.ts';

let handle: DatabaseHandle;

beforeAll(async () => {
  handle = await openDatabase({ databaseUrl: undefined, dataDir: '', memory: true });
  await sql`create table t (n int)`.execute(handle.db);
});
afterAll(async () => handle.close());

describe('PGlite dialect', () => {
  it('keeps a query issued during a transaction out of it (it waits, then sees the commit)', async () => {
    const pglite = handle.pglite!;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let inserted!: () => void;
    const firstInsertDone = new Promise<void>((r) => {
      inserted = r;
    });
    const trx = handle.db.transaction().execute(async (tx) => {
      await sql`insert into t values (1)`.execute(tx);
      inserted();
      await gate;
      await sql`insert into t values (2)`.execute(tx);
    });
    await firstInsertDone;
    // Issued while the transaction is open: must not run inside it, and must not see its rows early.
    const outside = pglite.query<{ c: number }>('select count(*)::int as c from t');
    await new Promise((r) => setTimeout(r, 50));
    release();
    await trx;
    const seen = await outside;
    expect(seen.rows[0]?.c).toBe(2);
  });

  it('rolls back everything when the transaction throws', async () => {
    await expect(
      handle.db.transaction().execute(async (tx) => {
        await sql`insert into t values (99)`.execute(tx);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const rows = await sql<{ c: number }>`select count(*)::int as c from t where n = 99`.execute(handle.db);
    expect(rows.rows[0]?.c).toBe(0);
  });

  it('recovers after a failing statement inside a transaction', async () => {
    await expect(
      handle.db.transaction().execute(async (tx) => {
        await sql`select * from no_such_table`.execute(tx);
      }),
    ).rejects.toThrow(/no_such_table/);
    const rows = await sql<{ one: number }>`select 1 as one`.execute(handle.db);
    expect(rows.rows[0]?.one).toBe(1);
  });

  it('supports savepoints for nested work', async () => {
    const tx = await handle.db.startTransaction().execute();
    await sql`insert into t values (10)`.execute(tx);
    const sp = await tx.savepoint('inner').execute();
    await sql`insert into t values (11)`.execute(sp);
    const back = await sp.rollbackToSavepoint('inner').execute();
    await back.commit().execute();
    const rows = await sql<{ n: number }>`select n from t where n in (10, 11) order by n`.execute(handle.db);
    expect(rows.rows.map((r) => r.n)).toEqual([10]);
  });

  it('runs concurrent transactions one after the other without losing writes', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        handle.db.transaction().execute(async (tx) => {
          await sql`insert into t values (${1000 + i})`.execute(tx);
        }),
      ),
    );
    const rows = await sql<{ c: number }>`select count(*)::int as c from t where n >= 1000`.execute(handle.db);
    expect(rows.rows[0]?.c).toBe(20);
  });
});
