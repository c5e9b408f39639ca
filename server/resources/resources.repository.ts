// Storage of resources and of their file versions. The French full-text vector is computed here,
// in SQL, from accent-folded text given by the service: title (A), tags (B), description (C).
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Audience, ResourceStatus } from './resources.tables.ts';

type Db = Kysely<Database>;

export interface ResourceRow {
  id: string;
  apId: string;
  origin: 'local' | 'remote';
  actorId: string | null;
  networkName: string | null;
  networkHandle: string | null;
  authorUserId: string | null;
  authorName: string;
  title: string;
  descriptionMarkdown: string | null;
  descriptionHtml: string;
  summary: string;
  linkUrl: string | null;
  url: string;
  tags: string[];
  audience: Audience;
  language: string;
  licence: string;
  formats: string[];
  status: ResourceStatus;
  publishedAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

const resourceColumns = [
  'resources.id',
  'resources.ap_id as apId',
  'resources.origin',
  'resources.actor_id as actorId',
  'resources.network_name as networkName',
  'resources.network_handle as networkHandle',
  'resources.author_user_id as authorUserId',
  'resources.author_name as authorName',
  'resources.title',
  'resources.description_markdown as descriptionMarkdown',
  'resources.description_html as descriptionHtml',
  'resources.summary',
  'resources.link_url as linkUrl',
  'resources.url',
  'resources.tags',
  'resources.audience',
  'resources.language',
  'resources.licence',
  'resources.formats',
  'resources.status',
  'resources.published_at as publishedAt',
  'resources.created_at as createdAt',
  'resources.updated_at as updatedAt',
] as const;

/** Accent-folded text of the three weighted parts of the index. */
export interface SearchText {
  title: string;
  tags: string;
  description: string;
}

function searchVector(text: SearchText) {
  return sql<string>`setweight(to_tsvector('french', ${text.title}), 'A') || setweight(to_tsvector('french', ${text.tags}), 'B') || setweight(to_tsvector('french', ${text.description}), 'C')`;
}

export interface ResourceValues {
  origin: 'local' | 'remote';
  actorId: string | null;
  networkName: string | null;
  networkHandle: string | null;
  authorUserId: string | null;
  authorName: string;
  title: string;
  descriptionMarkdown: string | null;
  descriptionHtml: string;
  summary: string;
  linkUrl: string | null;
  tags: string[];
  audience: Audience;
  language: string;
  licence: string;
  status: ResourceStatus;
  publishedAt?: Date;
}

/** Inserts a resource; `apIdAndUrl` builds the ActivityPub id and page URL from the new id. */
export async function insertResource(
  db: Db,
  values: ResourceValues,
  search: SearchText,
  apIdAndUrl: (id: string) => { apId: string; url: string },
): Promise<string> {
  const id = crypto.randomUUID();
  const { apId, url } = apIdAndUrl(id);
  await db
    .insertInto('resources')
    .values({
      id,
      ap_id: apId,
      url,
      origin: values.origin,
      actor_id: values.actorId,
      network_name: values.networkName,
      network_handle: values.networkHandle,
      author_user_id: values.authorUserId,
      author_name: values.authorName,
      title: values.title,
      description_markdown: values.descriptionMarkdown,
      description_html: values.descriptionHtml,
      summary: values.summary,
      link_url: values.linkUrl,
      tags: values.tags,
      audience: values.audience,
      language: values.language,
      licence: values.licence,
      status: values.status,
      published_at: values.publishedAt ?? new Date(),
      search_vector: searchVector(search),
    })
    .execute();
  return id;
}

export async function updateResourceRow(
  db: Db,
  id: string,
  values: Omit<ResourceValues, 'origin' | 'actorId' | 'authorUserId'>,
  search: SearchText,
): Promise<void> {
  await db
    .updateTable('resources')
    .set({
      network_name: values.networkName,
      network_handle: values.networkHandle,
      author_name: values.authorName,
      title: values.title,
      description_markdown: values.descriptionMarkdown,
      description_html: values.descriptionHtml,
      summary: values.summary,
      link_url: values.linkUrl,
      tags: values.tags,
      audience: values.audience,
      language: values.language,
      licence: values.licence,
      status: values.status,
      ...(values.publishedAt ? { published_at: values.publishedAt } : {}),
      search_vector: searchVector(search),
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .execute();
}

export async function setStatus(db: Db, id: string, status: ResourceStatus): Promise<void> {
  await db.updateTable('resources').set({ status, updated_at: new Date() }).where('id', '=', id).execute();
}

export async function touchResource(db: Db, id: string): Promise<void> {
  await db.updateTable('resources').set({ updated_at: new Date() }).where('id', '=', id).execute();
}

export async function setFormats(db: Db, id: string, formats: string[]): Promise<void> {
  await db.updateTable('resources').set({ formats }).where('id', '=', id).execute();
}

export async function findResource(db: Db, id: string): Promise<ResourceRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  return db.selectFrom('resources').select(resourceColumns).where('id', '=', id).executeTakeFirst();
}

export async function findResourceByApId(db: Db, apId: string): Promise<ResourceRow | undefined> {
  return db.selectFrom('resources').select(resourceColumns).where('ap_id', '=', apId).executeTakeFirst();
}

export async function deleteResourceRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('resources').where('id', '=', id).execute();
}

// Files ---------------------------------------------------------------------------------------

export interface FileRow {
  id: string;
  resourceId: string;
  slot: number;
  version: number;
  name: string;
  kind: string | null;
  mediaType: string;
  size: number | null;
  hash: string | null;
  remoteUrl: string | null;
  createdAt: Date;
}

const fileColumns = [
  'resource_files.id',
  'resource_files.resource_id as resourceId',
  'resource_files.slot',
  'resource_files.version',
  'resource_files.name',
  'resource_files.kind',
  'resource_files.media_type as mediaType',
  'resource_files.size',
  'resource_files.hash',
  'resource_files.remote_url as remoteUrl',
  'resource_files.created_at as createdAt',
] as const;

export interface FileValues {
  name: string;
  kind: string | null;
  mediaType: string;
  size: number | null;
  hash: string | null;
  remoteUrl: string | null;
  uploadedBy: string | null;
}

/** Adds a file as version 1 of a new slot, or as the next version of `slot`. */
export async function insertFile(db: Db, resourceId: string, file: FileValues, slot?: number): Promise<FileRow> {
  let target = slot;
  let version = 1;
  if (target === undefined) {
    const row = await db
      .selectFrom('resource_files')
      .select(sql<number>`coalesce(max(slot), 0) + 1`.as('next'))
      .where('resource_id', '=', resourceId)
      .executeTakeFirstOrThrow();
    target = Number(row.next);
  } else {
    const row = await db
      .selectFrom('resource_files')
      .select(sql<number>`coalesce(max(version), 0) + 1`.as('next'))
      .where('resource_id', '=', resourceId)
      .where('slot', '=', target)
      .executeTakeFirstOrThrow();
    version = Number(row.next);
  }
  return db
    .insertInto('resource_files')
    .values({
      resource_id: resourceId,
      slot: target,
      version,
      name: file.name,
      kind: file.kind,
      media_type: file.mediaType,
      size: file.size,
      hash: file.hash,
      remote_url: file.remoteUrl,
      uploaded_by: file.uploadedBy,
    })
    .returning(fileColumns)
    .executeTakeFirstOrThrow();
}

/** Every version of every file of a resource, by slot then newest version first. */
export async function listFiles(db: Db, resourceId: string): Promise<FileRow[]> {
  return db
    .selectFrom('resource_files')
    .select(fileColumns)
    .where('resource_id', '=', resourceId)
    .orderBy('slot')
    .orderBy('version', 'desc')
    .execute();
}

export async function findFile(db: Db, resourceId: string, fileId: string): Promise<FileRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(fileId)) return undefined;
  return db
    .selectFrom('resource_files')
    .select(fileColumns)
    .where('resource_id', '=', resourceId)
    .where('id', '=', fileId)
    .executeTakeFirst();
}

export async function deleteFilesOf(db: Db, resourceId: string): Promise<void> {
  await db.deleteFrom('resource_files').where('resource_id', '=', resourceId).execute();
}

/** Of these hashes, those no file row refers to any more. */
export async function unreferencedHashes(db: Db, hashes: string[]): Promise<string[]> {
  if (hashes.length === 0) return [];
  const used = await db.selectFrom('resource_files').select('hash').distinct().where('hash', 'in', hashes).execute();
  const usedSet = new Set(used.map((r) => r.hash));
  return [...new Set(hashes)].filter((h) => !usedSet.has(h));
}

// Settings ------------------------------------------------------------------------------------

export async function readNumberSetting(db: Db, key: string): Promise<number | undefined> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  const value = row?.value;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
