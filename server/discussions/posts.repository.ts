// Storage of posts: group threads and their replies, and comments under announcements and
// resources. Threads are read in display order (each reply under its parent, siblings oldest
// first) by one recursive query, so that a very long thread can be read a page at a time.
import { type Insertable, type Selectable, sql } from 'kysely';
import type { Executor } from '../core/events.ts';
import type { DiscussionPostsTable, PostStatus } from './discussions.tables.ts';

type Db = Executor;

export type PostRow = Selectable<DiscussionPostsTable>;
export type NewPost = Insertable<DiscussionPostsTable>;

export function findPostById(db: Db, id: string): Promise<PostRow | undefined> {
  // A malformed id is simply not found (PostgreSQL would refuse to compare it with a uuid).
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return Promise.resolve(undefined);
  return db.selectFrom('discussion_posts').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findPostByApId(db: Db, apId: string): Promise<PostRow | undefined> {
  return db.selectFrom('discussion_posts').selectAll().where('ap_id', '=', apId).executeTakeFirst();
}

export function insertPost(db: Db, values: NewPost): Promise<PostRow> {
  return db.insertInto('discussion_posts').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function updatePostContent(
  db: Db,
  id: string,
  content: { title?: string | null; contentHtml: string; contentText: string; tags: string[]; mentions: string[]; updatedAt: Date },
): Promise<PostRow | undefined> {
  return db
    .updateTable('discussion_posts')
    .set({
      ...(content.title !== undefined ? { title: content.title } : {}),
      content_html: content.contentHtml,
      content_text: content.contentText,
      tags: content.tags,
      mentions: content.mentions,
      updated_at: content.updatedAt,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/** Changes the status; a removed post keeps its row (the thread holds together) but no content. */
export async function setPostStatus(db: Db, id: string, status: PostStatus): Promise<PostRow | undefined> {
  const clear = status === 'removed' ? { content_html: '', content_text: '', title: null, tags: [], mentions: [] } : {};
  return db
    .updateTable('discussion_posts')
    .set({ status, ...clear, ...(status === 'visible' ? { visible_at: new Date() } : {}) })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/** A reply was added: the parent counts it, the thread and the parent move up in activity. */
export async function recordReply(db: Db, parentId: string, threadId: string, at: Date): Promise<void> {
  await db.updateTable('discussion_posts').set({ reply_count: sql`reply_count + 1` }).where('id', '=', parentId).execute();
  await db
    .updateTable('discussion_posts')
    .set({ last_activity_at: at })
    .where('id', '=', threadId)
    .where('last_activity_at', '<', at)
    .execute();
}

/** First posts of a group's threads, newest activity first; `before` pages on last_activity_at. */
export function listGroupThreads(
  db: Db,
  groupId: string,
  options: { limit: number; before?: Date; includeHeld?: boolean },
): Promise<PostRow[]> {
  let q = db
    .selectFrom('discussion_posts')
    .selectAll()
    .where('group_id', '=', groupId)
    .where('depth', '=', 0)
    .where('status', options.includeHeld ? 'in' : '=', options.includeHeld ? ['visible', 'held', 'removed'] : 'visible');
  if (options.before) q = q.where('last_activity_at', '<', options.before);
  return q.orderBy('last_activity_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
}

type Root = { threadId: string } | { announcementId: string } | { resourceId: string };

// Display order: a path made of (publication time, id) of every ancestor, sorted as text.
async function listTree(db: Db, root: Root, options: { limit?: number; offset?: number; includeHeld?: boolean }): Promise<PostRow[]> {
  const start =
    'threadId' in root
      ? sql`p.id = ${root.threadId}`
      : 'announcementId' in root
        ? sql`p.announcement_id = ${root.announcementId} and p.depth = 0`
        : sql`p.resource_id = ${root.resourceId} and p.depth = 0`;
  const statuses = options.includeHeld ? sql`('visible', 'held', 'removed')` : sql`('visible', 'removed')`;
  const limit = options.limit ?? 10_000;
  const offset = options.offset ?? 0;
  const result = await sql<PostRow>`
    with recursive tree as (
      select p.id, p.ap_id, p.thread_id,
        to_char(p.published_at at time zone 'UTC', 'YYYYMMDDHH24MISSUS') || p.id::text as path
      from discussion_posts p where ${start}
      union all
      select c.id, c.ap_id, c.thread_id, t.path || '/' || to_char(c.published_at at time zone 'UTC', 'YYYYMMDDHH24MISSUS') || c.id::text
      from discussion_posts c join tree t on c.in_reply_to = t.ap_id and c.thread_id = t.thread_id and c.id <> t.id
    )
    select p.* from tree t join discussion_posts p on p.id = t.id
    where p.status in ${statuses}
    order by t.path
    limit ${limit} offset ${offset}`.execute(db);
  return result.rows;
}

/** A thread in display order (first post, then each reply under its parent). */
export function listThread(
  db: Db,
  threadId: string,
  options: { limit?: number; offset?: number; includeHeld?: boolean } = {},
): Promise<PostRow[]> {
  return listTree(db, { threadId }, options);
}

export async function countThread(db: Db, threadId: string): Promise<number> {
  const row = await db
    .selectFrom('discussion_posts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('thread_id', '=', threadId)
    .where('status', 'in', ['visible', 'removed'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Comments under an announcement or a resource, each chain in display order, oldest chain first. */
export function listComments(
  db: Db,
  target: { announcementId: string } | { resourceId: string },
  options: { limit?: number; offset?: number; includeHeld?: boolean } = {},
): Promise<PostRow[]> {
  return listTree(db, target, options);
}

/** Posts waiting for approval, oldest first (optionally of one group). */
export function listHeldPosts(db: Db, options: { groupId?: string; limit: number; offset: number }): Promise<PostRow[]> {
  let q = db.selectFrom('discussion_posts').selectAll().where('status', '=', 'held');
  if (options.groupId) q = q.where('group_id', '=', options.groupId);
  return q.orderBy('created_at').orderBy('id').limit(options.limit).offset(options.offset).execute();
}

export function listPostsOfMember(db: Db, memberId: string): Promise<PostRow[]> {
  return db.selectFrom('discussion_posts').selectAll().where('author_member_id', '=', memberId).orderBy('published_at').execute();
}

/** Posts of one author (by actor id) that are not yet removed. */
export function listLivePostsOfAuthor(db: Db, authorApId: string): Promise<PostRow[]> {
  return db
    .selectFrom('discussion_posts')
    .selectAll()
    .where('author_ap_id', '=', authorApId)
    .where('status', '<>', 'removed')
    .orderBy('published_at')
    .execute();
}

/** Erasure: the post stays as a removed placeholder, by "ancien membre", linked to nobody. */
export async function anonymizeRemovedPost(db: Db, id: string, authorName: string): Promise<void> {
  await db
    .updateTable('discussion_posts')
    .set({
      status: 'removed',
      content_html: '',
      content_text: '',
      title: null,
      tags: [],
      mentions: [],
      author_name: authorName,
      author_handle: '',
      author_member_id: null,
    })
    .where('id', '=', id)
    .execute();
}

/** Visible public posts carrying a tag, newest first (members-only posts never). */
export function listPublicPostsByTag(db: Db, tag: string, options: { limit: number; offset: number }): Promise<PostRow[]> {
  return db
    .selectFrom('discussion_posts')
    .selectAll()
    .where('status', '=', 'visible')
    .where('visibility', '=', 'public')
    .where(sql<boolean>`${sql.ref('tags')} @> array[${tag}]::text[]`)
    .orderBy('published_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit)
    .offset(options.offset)
    .execute();
}
