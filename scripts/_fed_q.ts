import { openDatabase } from '../server/db/database.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import { sql } from 'kysely';
const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: '', memory: true });
await migrateToLatest(db.db);
let t = performance.now();
for (let i = 0; i < 500; i++) await sql`select 1 from federation_blocks where kind = 'host' and value = ${'x' + i}`.execute(db.db);
console.log('select ms/query', ((performance.now() - t) / 500).toFixed(2));
t = performance.now();
for (let i = 0; i < 200; i++) { await db.db.transaction().execute(async (trx) => { await sql`insert into fedify_kv (key, value) values (${'k' + i}, '1'::jsonb)`.execute(trx); }); }
console.log('txn insert ms', ((performance.now() - t) / 200).toFixed(2));
await db.close();
