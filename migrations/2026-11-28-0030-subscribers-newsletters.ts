// Newsletter subscribers (with their consent log and the suppression list of erased or
// unsubscribed addresses), newsletter issues and one delivery record per (issue, recipient).
// Frozen in time: this file imports nothing from server/.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('subscribers')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('email_hash', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text')
    .addColumn('language', 'text', (c) => c.notNull().defaultTo('fr').check(sql`language in ('fr', 'en')`))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('pending').check(sql`status in ('pending', 'active', 'unsubscribed', 'bouncing', 'erased')`),
    )
    .addColumn('frequency', 'text', (c) => c.notNull().defaultTo('weekly').check(sql`frequency in ('alert', 'weekly', 'monthly')`))
    .addColumn('sources', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('networks', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('bounce_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('confirmed_at', 'timestamptz')
    .addColumn('unsubscribed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('subscribers_status_idx').on('subscribers').columns(['status', 'frequency']).execute();

  await db.schema
    .createTable('subscriber_consents')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('subscriber_id', 'uuid', (c) => c.notNull().references('subscribers.id').onDelete('cascade'))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull().check(sql`method in ('form', 'import', 'admin', 'api')`))
    .addColumn('legal_basis', 'text', (c) => c.notNull().defaultTo('consent'))
    .addColumn('text_version', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('subscriber_consents_subscriber_idx').on('subscriber_consents').column('subscriber_id').execute();

  await db.schema
    .createTable('email_suppressions')
    .addColumn('email_hash', 'text', (c) => c.primaryKey())
    .addColumn('reason', 'text', (c) => c.notNull().check(sql`reason in ('erased', 'unsubscribed', 'bounced')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('newsletter_issues')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('manual').check(sql`kind in ('manual', 'weekly', 'monthly', 'alert')`))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('introduction', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('announcement_ids', sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'::uuid[]`))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('draft').check(sql`status in ('draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled')`),
    )
    .addColumn('scheduled_at', 'timestamptz')
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('covers_until', 'timestamptz')
    .addColumn('html_bytes', 'integer')
    .addColumn('allow_oversize', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('total', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('newsletter_issues_status_idx').on('newsletter_issues').columns(['status', 'scheduled_at']).execute();

  await db.schema
    .createTable('newsletter_deliveries')
    .addColumn('issue_id', 'uuid', (c) => c.notNull().references('newsletter_issues.id').onDelete('cascade'))
    .addColumn('subscriber_id', 'uuid', (c) => c.notNull().references('subscribers.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('pending').check(sql`status in ('pending', 'sending', 'sent', 'failed', 'skipped')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('claimed_at', 'timestamptz')
    .addColumn('sent_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addPrimaryKeyConstraint('newsletter_deliveries_pk', ['issue_id', 'subscriber_id'])
    .execute();
  await db.schema
    .createIndex('newsletter_deliveries_queue_idx')
    .on('newsletter_deliveries')
    .columns(['issue_id', 'status', 'next_attempt_at'])
    .execute();
  await db.schema.createIndex('newsletter_deliveries_subscriber_idx').on('newsletter_deliveries').column('subscriber_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['newsletter_deliveries', 'newsletter_issues', 'email_suppressions', 'subscriber_consents', 'subscribers']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
