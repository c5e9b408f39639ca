// Discussions and groups: people (members signed in by email link, or staff) with a federated
// Person actor, groups with a Group actor (FEP-1b12), their memberships (local or remote actors),
// posts (group threads, replies, and comments under announcements and resources, local or
// received), reports, the moderation log, and email followers of a group (daily digest).
// Frozen in time: this file imports nothing from server/.
import { type Kysely, sql } from 'kysely';

const now = sql`now()`;

export async function up(db: Kysely<any>): Promise<void> {
  // Actors of this instance other than the network itself: groups and people. Each has its own
  // RSA key pair (Mastodon checks that the signing key belongs to the activity's actor).
  await db.schema
    .createTable('local_actors')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('username', 'text', (c) => c.notNull().unique().check(sql`username ~ '^[a-z0-9_]{1,30}$'`))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('group', 'person')`))
    .addColumn('rsa_private_jwk', 'jsonb', (c) => c.notNull())
    .addColumn('rsa_public_jwk', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();

  // People taking part in discussions: members without a staff account (signed in by an emailed
  // link) and staff users (linked by user_id, created when they first take part).
  await db.schema
    .createTable('discussion_members')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text')
    .addColumn('locale', 'text', (c) => c.notNull().defaultTo('fr'))
    .addColumn('actor_id', 'uuid', (c) => c.notNull().unique().references('local_actors.id').onDelete('restrict'))
    .addColumn('user_id', 'uuid', (c) => c.unique().references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('last_sign_in_at', 'timestamptz')
    .execute();

  // One-time sign-in links (hashed) and member sessions (hashed), like staff sessions.
  await db.schema
    .createTable('discussion_sign_in_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex('discussion_sign_in_tokens_email_idx').on('discussion_sign_in_tokens').column('email').execute();
  await db.schema
    .createTable('discussion_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('member_id', 'uuid', (c) => c.notNull().references('discussion_members.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('discussion_groups')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    // Local groups have an actor here; remote groups (joined by local people) have ap_id only.
    .addColumn('actor_id', 'uuid', (c) => c.unique().references('local_actors.id').onDelete('restrict'))
    .addColumn('ap_id', 'text', (c) => c.notNull().unique())
    .addColumn('origin', 'text', (c) => c.notNull().check(sql`origin in ('local', 'remote')`))
    .addColumn('handle', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('inbox', 'text')
    .addColumn('shared_inbox', 'text')
    .addColumn('visibility', 'text', (c) => c.notNull().defaultTo('public').check(sql`visibility in ('public', 'members')`))
    .addColumn('join_policy', 'text', (c) => c.notNull().defaultTo('open').check(sql`join_policy in ('open', 'approval')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('last_activity_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('deleted_at', 'timestamptz')
    .addCheckConstraint('discussion_groups_origin_actor', sql`(origin = 'local') = (actor_id is not null)`)
    .execute();

  // Who belongs to a group: local people (actor_ap_id is their Person actor) or remote actors.
  await db.schema
    .createTable('discussion_memberships')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('group_id', 'uuid', (c) => c.notNull().references('discussion_groups.id').onDelete('cascade'))
    .addColumn('actor_ap_id', 'text', (c) => c.notNull())
    .addColumn('member_id', 'uuid', (c) => c.references('discussion_members.id').onDelete('cascade'))
    .addColumn('handle', 'text')
    .addColumn('name', 'text')
    .addColumn('inbox', 'text')
    .addColumn('shared_inbox', 'text')
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().defaultTo('member').check(sql`role in ('member', 'moderator')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'accepted', 'banned')`))
    .addColumn('follow_activity_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addUniqueConstraint('discussion_memberships_uq', ['group_id', 'actor_ap_id'])
    .execute();
  await db.schema.createIndex('discussion_memberships_member_idx').on('discussion_memberships').column('member_id').execute();

  // Posts: a thread in a group, a reply, or a comment under an announcement or a resource.
  await db.schema
    .createTable('discussion_posts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('ap_id', 'text', (c) => c.notNull().unique())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull().check(sql`origin in ('local', 'remote')`))
    .addColumn('author_ap_id', 'text', (c) => c.notNull())
    .addColumn('author_member_id', 'uuid', (c) => c.references('discussion_members.id').onDelete('set null'))
    .addColumn('author_name', 'text', (c) => c.notNull())
    .addColumn('author_handle', 'text', (c) => c.notNull())
    .addColumn('group_id', 'uuid', (c) => c.references('discussion_groups.id').onDelete('cascade'))
    .addColumn('announcement_id', 'uuid', (c) => c.references('announcements.id').onDelete('cascade'))
    .addColumn('resource_id', 'uuid', (c) => c.references('resources.id').onDelete('cascade'))
    .addColumn('in_reply_to', 'text')
    // The first post of the thread (itself for a thread's first post); comments: null.
    .addColumn('thread_id', 'uuid', (c) => c.references('discussion_posts.id').onDelete('cascade'))
    .addColumn('depth', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('title', 'text')
    .addColumn('content_html', 'text', (c) => c.notNull())
    .addColumn('content_text', 'text', (c) => c.notNull())
    .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('mentions', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('visibility', 'text', (c) => c.notNull().defaultTo('public').check(sql`visibility in ('public', 'members')`))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('visible').check(sql`status in ('visible', 'held', 'removed')`))
    .addColumn('reply_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('published_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz')
    .addColumn('last_activity_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addCheckConstraint('discussion_posts_one_context', sql`num_nonnulls(group_id, announcement_id, resource_id) = 1`)
    .execute();
  await db.schema.createIndex('discussion_posts_group_idx').on('discussion_posts').columns(['group_id', 'last_activity_at desc']).execute();
  await db.schema.createIndex('discussion_posts_thread_idx').on('discussion_posts').columns(['thread_id', 'published_at']).execute();
  await db.schema.createIndex('discussion_posts_announcement_idx').on('discussion_posts').column('announcement_id').execute();
  await db.schema.createIndex('discussion_posts_resource_idx').on('discussion_posts').column('resource_id').execute();
  await db.schema.createIndex('discussion_posts_reply_idx').on('discussion_posts').column('in_reply_to').execute();
  await db.schema.createIndex('discussion_posts_author_idx').on('discussion_posts').columns(['author_ap_id', 'published_at']).execute();

  await db.schema
    .createTable('discussion_reports')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('post_id', 'uuid', (c) => c.references('discussion_posts.id').onDelete('set null'))
    .addColumn('post_ap_id', 'text', (c) => c.notNull())
    // Who reported: a local member, a staff user, or a remote actor (a received Flag).
    .addColumn('reporter', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open').check(sql`status in ('open', 'resolved', 'dismissed')`))
    .addColumn('forwarded', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('resolved_at', 'timestamptz')
    .execute();

  // Every moderation action, with who did it and why. Kept when the target is gone.
  await db.schema
    .createTable('moderation_log')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('moderator', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('group_id', 'uuid', (c) => c.references('discussion_groups.id').onDelete('set null'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('moderation_log_at_idx').on('moderation_log').column('at').execute();

  // Email followers of a group: a daily digest of its new posts, through the subscribers
  // capability (consent, one-click unsubscribe).
  await db.schema
    .createTable('discussion_email_followers')
    .addColumn('group_id', 'uuid', (c) => c.notNull().references('discussion_groups.id').onDelete('cascade'))
    .addColumn('subscriber_id', 'uuid', (c) => c.notNull().references('subscribers.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(now))
    .addColumn('last_sent_at', 'timestamptz')
    .addPrimaryKeyConstraint('discussion_email_followers_pk', ['group_id', 'subscriber_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'discussion_email_followers',
    'moderation_log',
    'discussion_reports',
    'discussion_posts',
    'discussion_memberships',
    'discussion_groups',
    'discussion_sessions',
    'discussion_sign_in_tokens',
    'discussion_members',
    'local_actors',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
