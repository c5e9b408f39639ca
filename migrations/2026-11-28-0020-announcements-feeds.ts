// Indexes for the public feeds (the latest visible announcements, by network, by tag), and a flag
// saying the summary was generated from the body, so that editing the body refreshes it.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('announcements')
    .addColumn('summary_auto', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema
    .createIndex('announcements_visible_idx')
    .on('announcements')
    .columns(['published_at desc', 'id'])
    .where(sql.ref('status'), '=', 'published')
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
  await db.schema.createIndex('announcements_network_idx').on('announcements').columns(['network_handle', 'published_at desc']).execute();
  await sql`create index announcements_tags_idx on announcements using gin (tags)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('announcements').dropColumn('summary_auto').execute();
  await db.schema.dropIndex('announcements_tags_idx').ifExists().execute();
  await db.schema.dropIndex('announcements_network_idx').ifExists().execute();
  await db.schema.dropIndex('announcements_visible_idx').ifExists().execute();
}
