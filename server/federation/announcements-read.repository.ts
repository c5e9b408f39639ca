// What federation reads of announcements: one by id (deleted ones too, to answer with a
// Tombstone), and pages of local published ones for the outbox. Writes of received announcements
// go through the announcements capability (remote-announcements.service.ts), which sanitizes.
import type { Executor } from '../core/events.ts';

const COLUMNS = [
  'id',
  'ap_id',
  'origin',
  'actor_id',
  'title',
  'summary',
  'content_html',
  'url',
  'tags',
  'status',
  'published_at',
  'updated_at',
  'deleted_at',
] as const;

export function findAnnouncement(db: Executor, id: string) {
  return db.selectFrom('announcements').select(COLUMNS).where('id', '=', id).executeTakeFirst();
}

export function findAnnouncementByApId(db: Executor, apId: string) {
  return db.selectFrom('announcements').select(COLUMNS).where('ap_id', '=', apId).executeTakeFirst();
}

function localPublished(db: Executor) {
  return db.selectFrom('announcements').where('origin', '=', 'local').where('status', '=', 'published').where('deleted_at', 'is', null);
}

export function listLocalPublishedPage(db: Executor, limit: number, offset: number) {
  return localPublished(db).select(COLUMNS).orderBy('published_at', 'desc').orderBy('id').limit(limit).offset(offset).execute();
}

export async function countLocalPublished(db: Executor): Promise<number> {
  const row = await localPublished(db)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function countRemoteAnnouncements(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('announcements')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('origin', '=', 'remote')
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
