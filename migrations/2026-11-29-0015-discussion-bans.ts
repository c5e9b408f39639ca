// Bans decided by discussion moderators: an actor, or a whole server (host), in one group or (group
// null) in every group of the instance. A banned actor stays banned whatever path their activities
// take (another inbox, another actor id on the same server when the host is banned).
// Frozen in time: this file imports nothing from server/.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('discussion_bans')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('group_id', 'uuid', (c) => c.references('discussion_groups.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('actor', 'host')`))
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('moderator', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One ban per (group or everywhere, kind, value): coalesce makes "everywhere" comparable.
  await sql`create unique index discussion_bans_uq on discussion_bans (coalesce(group_id, '00000000-0000-0000-0000-000000000000'::uuid), kind, value)`.execute(
    db,
  );
  await db.schema.createIndex('discussion_bans_value_idx').on('discussion_bans').columns(['kind', 'value']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('discussion_bans').ifExists().execute();
}
