// Announcements (news): written here (origin 'local') or received from followed networks
// (origin 'remote'). One table so that feeds, newsletters and search read both alike.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('announcements')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('ap_id', 'text', (c) => c.notNull().unique())
    .addColumn('origin', 'text', (c) => c.notNull().check(sql`origin in ('local', 'remote')`))
    .addColumn('actor_id', 'text')
    .addColumn('network_name', 'text')
    .addColumn('network_handle', 'text')
    .addColumn('author_user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('body_markdown', 'text')
    .addColumn('content_html', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('image_url', 'text')
    .addColumn('image_alt', 'text')
    .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('draft').check(sql`status in ('draft', 'published')`))
    .addColumn('published_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('deleted_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('announcements_feed_idx').on('announcements').columns(['status', 'published_at desc']).execute();
  await db.schema.createIndex('announcements_actor_idx').on('announcements').columns(['actor_id', 'published_at desc']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('announcements').ifExists().execute();
}
