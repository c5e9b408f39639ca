// Email followers of a group (daily digest): a follow is pending until the address owner clicks
// the link of the confirmation email (double opt-in), then active. Frozen: imports nothing.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('discussion_email_followers')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'active')`))
    .execute();
  await db.schema.alterTable('discussion_email_followers').addColumn('confirmed_at', 'timestamptz').execute();
  // The daily job reads the active followers of each group.
  await db.schema
    .createIndex('discussion_email_followers_active_idx')
    .on('discussion_email_followers')
    .columns(['group_id', 'status'])
    .execute();
  await db.schema
    .createIndex('discussion_email_followers_subscriber_idx')
    .on('discussion_email_followers')
    .column('subscriber_id')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('discussion_email_followers_subscriber_idx').ifExists().execute();
  await db.schema.dropIndex('discussion_email_followers_active_idx').ifExists().execute();
  await db.schema.alterTable('discussion_email_followers').dropColumn('confirmed_at').execute();
  await db.schema.alterTable('discussion_email_followers').dropColumn('status').execute();
}
