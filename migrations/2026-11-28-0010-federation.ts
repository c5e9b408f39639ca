// Federation (ActivityPub): Fedify's key-value store, the instance actor's keys, the networks we
// follow and those that follow us, a cache of remote actors, the blocklist, and the health of
// each receiving host. Frozen in time: this file imports nothing from server/.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('fedify_kv')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'jsonb', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('fedify_kv_expires_idx').on('fedify_kv').column('expires_at').execute();

  await db.schema
    .createTable('federation_keys')
    .addColumn('kind', 'text', (c) => c.primaryKey().check(sql`kind in ('rsa', 'ed25519')`))
    .addColumn('private_jwk', 'jsonb', (c) => c.notNull())
    .addColumn('public_jwk', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('federation_remote_actors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('handle', 'text')
    .addColumn('name', 'text')
    .addColumn('url', 'text')
    .addColumn('inbox', 'text', (c) => c.notNull())
    .addColumn('shared_inbox', 'text')
    .addColumn('fetched_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('federation_follows')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('actor_id', 'text', (c) => c.notNull().unique())
    .addColumn('handle', 'text')
    .addColumn('name', 'text')
    .addColumn('inbox', 'text', (c) => c.notNull())
    .addColumn('shared_inbox', 'text')
    .addColumn('follow_activity_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'accepted', 'rejected')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('federation_followers')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('actor_id', 'text', (c) => c.notNull().unique())
    .addColumn('handle', 'text')
    .addColumn('name', 'text')
    .addColumn('inbox', 'text', (c) => c.notNull())
    .addColumn('shared_inbox', 'text')
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('follow_activity_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'accepted')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('federation_followers_status_idx').on('federation_followers').column('status').execute();

  await db.schema
    .createTable('federation_blocks')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('host', 'actor')`))
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('federation_blocks_kind_value_key', ['kind', 'value'])
    .execute();

  await db.schema
    .createTable('federation_delivery_hosts')
    .addColumn('host', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_failure_at', 'timestamptz')
    .addColumn('last_success_at', 'timestamptz')
    .addColumn('unreachable_until', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'federation_delivery_hosts',
    'federation_blocks',
    'federation_followers',
    'federation_follows',
    'federation_remote_actors',
    'federation_keys',
    'fedify_kv',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
