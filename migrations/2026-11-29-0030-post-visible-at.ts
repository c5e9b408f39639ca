// When a post became visible here: when it was stored, or when a moderator approved it. The daily
// digest takes posts by this time, not by their publication date, so that a post approved later,
// or received late from another server, still reaches the next digest.
// Frozen in time: this file imports nothing from server/.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('discussion_posts')
    .addColumn('visible_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`update discussion_posts set visible_at = greatest(published_at, created_at)`.execute(db);
  await db.schema.createIndex('discussion_posts_visible_idx').on('discussion_posts').columns(['group_id', 'visible_at']).execute();
}
