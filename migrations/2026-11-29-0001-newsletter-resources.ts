// Newsletter issues can feature shared resources (links to their pages), in order, like announcements.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('newsletter_issues')
    .addColumn('resource_ids', sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'::uuid[]`))
    .execute();
}
