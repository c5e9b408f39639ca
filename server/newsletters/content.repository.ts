// What newsletters read from the announcements table (owned by the announcements capability):
// published, not deleted, local and remote alike. Read-only.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface IssueAnnouncement {
  id: string;
  origin: 'local' | 'remote';
  networkName: string | null;
  networkHandle: string | null;
  title: string;
  summary: string;
  contentHtml: string;
  url: string;
  tags: string[];
  publishedAt: Date | null;
}

const columns = [
  'id',
  'origin',
  'network_name as networkName',
  'network_handle as networkHandle',
  'title',
  'summary',
  'content_html as contentHtml',
  'url',
  'tags',
  'published_at as publishedAt',
] as const;

function visible(db: Db) {
  return db.selectFrom('announcements').select(columns).where('status', '=', 'published').where('deleted_at', 'is', null);
}

/** The given announcements, in the given order (missing or unpublished ones left out). */
export async function announcementsByIds(db: Db, ids: string[]): Promise<IssueAnnouncement[]> {
  const valid = ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (valid.length === 0) return [];
  const rows = (await visible(db).where('id', 'in', valid).execute()) as IssueAnnouncement[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return valid.map((id) => byId.get(id)).filter((r): r is IssueAnnouncement => r !== undefined);
}

/** Published after `since` (exclusive) and up to `until` (inclusive), newest first. */
export async function announcementsBetween(db: Db, since: Date | null, until: Date, limit = 100): Promise<IssueAnnouncement[]> {
  let q = visible(db).where('published_at', '<=', until);
  if (since) q = q.where('published_at', '>', since);
  return (await q.orderBy('published_at', 'desc').limit(limit).execute()) as IssueAnnouncement[];
}

/** The regional networks this instance has heard from, for the national instance's form. */
export async function knownNetworks(db: Db): Promise<Array<{ handle: string; name: string }>> {
  const rows = await db
    .selectFrom('announcements')
    .select(['network_handle', 'network_name'])
    .where('origin', '=', 'remote')
    .where('network_handle', 'is not', null)
    .groupBy(['network_handle', 'network_name'])
    .orderBy('network_name')
    .limit(200)
    .execute();
  return rows.map((r) => ({ handle: r.network_handle!, name: r.network_name ?? r.network_handle! }));
}

// Shared resources (owned by the resources capability): published, local and remote alike.
// Featured as links to their pages, never as attachments.
export interface IssueResource {
  id: string;
  origin: 'local' | 'remote';
  networkName: string | null;
  title: string;
  /** Plain text, one short excerpt. */
  excerpt: string;
  /** The public page (local) or the page on the network it came from (remote). */
  url: string;
  licence: string;
  publishedAt: Date;
}

const resourceColumns = [
  'id',
  'origin',
  'network_name as networkName',
  'title',
  'summary',
  'description_html as descriptionHtml',
  'url',
  'licence',
  'published_at as publishedAt',
] as const;

function visibleResources(db: Db) {
  return db.selectFrom('resources').select(resourceColumns).where('status', '=', 'published');
}

function toIssueResource(r: {
  id: string;
  origin: 'local' | 'remote';
  networkName: string | null;
  title: string;
  summary: string;
  descriptionHtml: string;
  url: string;
  licence: string;
  publishedAt: Date;
}): IssueResource {
  const text = (r.summary || r.descriptionHtml.replace(/<[^>]*>/g, ' ').replace(/&[a-z#0-9]+;/gi, ' ')).replace(/\s+/g, ' ').trim();
  return {
    id: r.id,
    origin: r.origin,
    networkName: r.networkName,
    title: r.title,
    excerpt: text.length > 200 ? `${text.slice(0, 197)}…` : text,
    url: r.url,
    licence: r.licence,
    publishedAt: r.publishedAt,
  };
}

/** The given resources, in the given order (missing or unpublished ones left out). */
export async function resourcesByIds(db: Db, ids: string[]): Promise<IssueResource[]> {
  const valid = ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (valid.length === 0) return [];
  const rows = (await visibleResources(db).where('id', 'in', valid).execute()).map(toIssueResource);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return valid.map((id) => byId.get(id)).filter((r): r is IssueResource => r !== undefined);
}

/** Published after `since` (exclusive) and up to `until` (inclusive), newest first. */
export async function resourcesBetween(db: Db, since: Date | null, until: Date, limit = 20): Promise<IssueResource[]> {
  let q = visibleResources(db).where('published_at', '<=', until);
  if (since) q = q.where('published_at', '>', since);
  return (await q.orderBy('published_at', 'desc').limit(limit).execute()).map(toIssueResource);
}
