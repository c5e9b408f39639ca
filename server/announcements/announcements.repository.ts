// Storage of announcements, local and remote, in one table. "Visible" means what the public sees:
// published and not deleted. Deleted ones stay as tombstones (deleted_at) so that their page and
// their ActivityPub id answer 410 Gone.
import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import { isUuid } from '../core/uuid.ts';
import type { Database } from '../db/schema.ts';
import type { AnnouncementsTable } from './announcements.tables.ts';

type Db = Kysely<Database>;

export type AnnouncementRow = Selectable<AnnouncementsTable>;
export type NewAnnouncementRow = Insertable<AnnouncementsTable>;
export type AnnouncementChanges = Updateable<AnnouncementsTable>;

/** The announcement with this id, deleted or not; undefined when there is none (or the id is not a uuid). */
export async function getAnnouncementById(db: Db, id: string): Promise<AnnouncementRow | undefined> {
  if (!isUuid(id)) return undefined;
  return db.selectFrom('announcements').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getAnnouncementByApId(db: Db, apId: string): Promise<AnnouncementRow | undefined> {
  return db.selectFrom('announcements').selectAll().where('ap_id', '=', apId).executeTakeFirst();
}

export async function insertAnnouncement(db: Db, row: NewAnnouncementRow): Promise<AnnouncementRow> {
  return db.insertInto('announcements').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Insert unless an announcement with the same `ap_id` exists (then: undefined), in one statement. */
export async function insertAnnouncementIfNew(db: Db, row: NewAnnouncementRow): Promise<AnnouncementRow | undefined> {
  return db
    .insertInto('announcements')
    .values(row)
    .onConflict((oc) => oc.column('ap_id').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function updateAnnouncementRow(db: Db, id: string, changes: AnnouncementChanges): Promise<AnnouncementRow> {
  return db.updateTable('announcements').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function markAnnouncementDeleted(db: Db, id: string, now: Date): Promise<void> {
  await db.updateTable('announcements').set({ deleted_at: now, updated_at: now }).where('id', '=', id).execute();
}

/** Drafts were never public: nothing refers to them, they are removed outright. */
export async function removeAnnouncementRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('announcements').where('id', '=', id).execute();
}

export interface PublicListQuery {
  origin?: 'local' | 'remote' | 'all';
  networkHandle?: string;
  tag?: string;
  /** published (default), draft, or all (drafts are local: remote ones are always published). */
  status?: 'published' | 'draft' | 'all';
  limit: number;
  offset?: number;
  before?: Date;
}

/** Announcements newest first (drafts last, by creation), with the filters given. */
export async function listAnnouncements(db: Db, query: PublicListQuery): Promise<AnnouncementRow[]> {
  let q = db.selectFrom('announcements').selectAll().where('deleted_at', 'is', null);
  const status = query.status ?? 'published';
  if (status !== 'all') q = q.where('status', '=', status);
  if (query.origin && query.origin !== 'all') q = q.where('origin', '=', query.origin);
  if (query.networkHandle) q = q.where('network_handle', '=', query.networkHandle);
  // Written as an array literal so that PGlite and pg bind it alike (and the GIN index serves it).
  if (query.tag) q = q.where(sql<boolean>`${sql.ref('tags')} @> array[${query.tag}]::text[]`);
  if (query.before) q = q.where('published_at', '<', query.before);
  return q
    .orderBy('published_at', (ob) => ob.desc().nullsFirst())
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit)
    .offset(query.offset ?? 0)
    .execute();
}

/** The latest public local announcements (federation outbox, local feeds). */
export async function listLocalPublished(db: Db, options: { limit: number; before?: Date }): Promise<AnnouncementRow[]> {
  return listAnnouncements(db, { origin: 'local', limit: options.limit, ...(options.before ? { before: options.before } : {}) });
}

/** Local announcements for the editors' list: drafts first, then the published ones. */
export async function listLocalForEditors(db: Db, options: { limit: number; offset: number }): Promise<AnnouncementRow[]> {
  return listAnnouncements(db, { origin: 'local', status: 'all', limit: options.limit, offset: options.offset });
}

export interface NetworkSummary {
  handle: string;
  name: string;
  count: number;
}

/** The networks whose announcements this instance shows, with how many of them. */
export async function listNetworks(db: Db): Promise<NetworkSummary[]> {
  const rows = await db
    .selectFrom('announcements')
    .select((eb) => ['network_handle', eb.fn.max('network_name').as('name'), eb.fn.countAll<number>().as('count')])
    .where('origin', '=', 'remote')
    .where('status', '=', 'published')
    .where('deleted_at', 'is', null)
    .where('network_handle', 'is not', null)
    .groupBy('network_handle')
    .orderBy('network_handle')
    .limit(500)
    .execute();
  return rows.map((r) => ({ handle: r.network_handle!, name: r.name ?? r.network_handle!, count: Number(r.count) }));
}
