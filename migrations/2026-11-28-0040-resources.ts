// Shared resources: a library of documents (or external links) with a licence, searchable in
// French, local or received from another network. Files are stored by content hash outside the
// database; resource_files keeps every version of each file of a resource.
// Frozen in time: this file imports nothing from server/.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('resources')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('ap_id', 'text', (c) => c.notNull().unique())
    .addColumn('origin', 'text', (c) => c.notNull().check(sql`origin in ('local', 'remote')`))
    .addColumn('actor_id', 'text')
    .addColumn('network_name', 'text')
    .addColumn('network_handle', 'text')
    .addColumn('author_user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('author_name', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description_markdown', 'text')
    .addColumn('description_html', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('summary', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('link_url', 'text')
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('audience', 'text', (c) => c.notNull().check(sql`audience in ('amaps', 'farmers', 'networks', 'everyone')`))
    .addColumn('language', 'text', (c) => c.notNull().defaultTo('fr'))
    .addColumn('licence', 'text', (c) => c.notNull())
    // Categories of the current files (document, spreadsheet, image, ..., link): the "type" filter.
    .addColumn('formats', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('published').check(sql`status in ('published', 'unpublished')`))
    // French full-text index over an accent-free copy of title (A), tags (B) and description (C),
    // maintained by the repository (accents are removed in application code on both sides).
    .addColumn('search_vector', sql`tsvector`, (c) => c.notNull().defaultTo(sql`''::tsvector`))
    .addColumn('published_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('resources_origin_actor', sql`(origin = 'local') = (actor_id is null)`)
    .execute();
  await sql`create index resources_search_idx on resources using gin (search_vector)`.execute(db);
  await sql`create index resources_tags_idx on resources using gin (tags)`.execute(db);
  await db.schema.createIndex('resources_list_idx').on('resources').columns(['status', 'published_at desc']).execute();
  await db.schema.createIndex('resources_actor_idx').on('resources').column('actor_id').execute();

  await db.schema
    .createTable('resource_files')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('resource_id', 'uuid', (c) => c.notNull().references('resources.id').onDelete('cascade'))
    // Which file of the resource (a resource may have several); its versions share the slot.
    .addColumn('slot', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text')
    .addColumn('media_type', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint')
    // Local files: the content hash in the file storage. Remote files: their URL (no copy is kept).
    .addColumn('hash', 'text')
    .addColumn('remote_url', 'text')
    .addColumn('uploaded_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('resource_files_version_uq', ['resource_id', 'slot', 'version'])
    .addCheckConstraint('resource_files_where', sql`(hash is null) <> (remote_url is null)`)
    .execute();
  await db.schema.createIndex('resource_files_hash_idx').on('resource_files').column('hash').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('resource_files').ifExists().execute();
  await db.schema.dropTable('resources').ifExists().execute();
}
