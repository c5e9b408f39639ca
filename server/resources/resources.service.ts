// The rules of the library: what a valid resource is, how it is created, edited, given a new
// file version, unpublished and deleted, and which event each change publishes. Files are already
// in the file storage when these run (uploads stream there before any transaction opens); callers
// pass a transaction and remove the stored files of a failed request.
import type { Kysely } from 'kysely';
import { AppError } from '../core/errors.ts';
import type { DomainEvents } from '../core/events.ts';
import { toPlainText } from '../core/sanitize.ts';
import type { Database } from '../db/schema.ts';
import { FILE_KINDS, type FileKind, KINDS } from '../storage/file-type.ts';
import { LICENCE_CODES } from './licences.ts';
import {
  deleteResourceRow,
  type FileRow,
  findFile,
  findResource,
  insertFile,
  insertResource,
  listFiles,
  type ResourceRow,
  type SearchText,
  setFormats,
  setStatus,
  touchResource,
  updateResourceRow,
} from './resources.repository.ts';
import type { Audience, ResourceStatus } from './resources.tables.ts';
import { foldAccents, renderMarkdown } from './text.ts';
import './resources.events.ts';

type Db = Kysely<Database>;

export const AUDIENCES: readonly Audience[] = ['everyone', 'amaps', 'farmers', 'networks'];
export const LIMITS = { title: 200, description: 20_000, link: 2000, author: 120, tags: 15, tag: 40, files: 10 } as const;

export interface Deps {
  db: Db;
  events: DomainEvents;
  publicUrl: string;
}

/** What an editor sends (form or API). Absent fields keep their value on an edit. */
export interface ResourceInput {
  title?: string;
  description?: string;
  link?: string | null;
  tags?: readonly string[] | string;
  audience?: string;
  language?: string;
  licence?: string;
  author?: string;
  status?: string;
}

/** A file already in the storage, with its checked kind. */
export interface StoredFile {
  hash: string;
  size: number;
  kind: FileKind;
  name: string;
}

function invalid(field: string, reason: string, message: string): AppError {
  return new AppError('validation_failed', message, { field, reason: `resources.error.${reason}` });
}

export function normaliseTags(tags: readonly string[] | string | undefined): string[] {
  const list = typeof tags === 'string' ? tags.split(',') : (tags ?? []);
  const out: string[] = [];
  for (const raw of list) {
    const tag = raw.normalize('NFC').trim().replace(/^#+/, '').replace(/\s+/g, ' ').trim().toLowerCase();
    if (!tag) continue;
    if (Array.from(tag).length > LIMITS.tag) throw invalid('tags', 'tag', `A tag must have at most ${LIMITS.tag} characters.`);
    if (!out.includes(tag)) out.push(tag);
  }
  if (out.length > LIMITS.tags) throw invalid('tags', 'tags', `At most ${LIMITS.tags} tags.`);
  return out;
}

export function checkHttpUrl(value: string, field: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw invalid(field, 'link', 'The link must be a full web address starting with https:// or http://.');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) {
    throw invalid(field, 'link', 'The link must be a web address starting with https:// or http://.');
  }
  if (url.href.length > LIMITS.link) throw invalid(field, 'link', `The link must have at most ${LIMITS.link} characters.`);
  return url.href;
}

export function checkLicence(code: string | undefined): string {
  if (code === undefined || !LICENCE_CODES.includes(code as (typeof LICENCE_CODES)[number])) {
    throw new AppError('validation_failed', `Unknown licence "${code ?? ''}": choose one of ${LICENCE_CODES.join(', ')}.`, {
      field: 'licence',
      reason: 'resources.error.licence',
      allowed: LICENCE_CODES,
    });
  }
  return code;
}

interface Prepared {
  title: string;
  descriptionMarkdown: string;
  descriptionHtml: string;
  summary: string;
  linkUrl: string | null;
  tags: string[];
  audience: Audience;
  language: string;
  licence: string;
  authorName: string;
  status: ResourceStatus;
}

function prepare(input: ResourceInput, current: Prepared | undefined, defaultAuthor: string): Prepared {
  const title = (input.title ?? current?.title ?? '').replace(/\s+/g, ' ').trim();
  if (!title) throw invalid('title', 'title', 'The title is required.');
  if (Array.from(title).length > LIMITS.title) throw invalid('title', 'title', `The title must have at most ${LIMITS.title} characters.`);
  const description = (input.description ?? current?.descriptionMarkdown ?? '').trim();
  if (description.length > LIMITS.description) {
    throw invalid('description', 'description', `The description must have at most ${LIMITS.description} characters.`);
  }
  const descriptionHtml = description ? renderMarkdown(description) : '';
  const linkGiven = input.link === undefined ? current?.linkUrl : input.link;
  const linkUrl = linkGiven?.trim() ? checkHttpUrl(linkGiven, 'link') : null;
  const audience = (input.audience?.trim() || current?.audience || 'everyone') as Audience;
  if (!AUDIENCES.includes(audience)) throw invalid('audience', 'audience', `The audience must be one of ${AUDIENCES.join(', ')}.`);
  const language = (input.language?.trim().toLowerCase() || current?.language || 'fr').slice(0, 8);
  if (!/^[a-z]{2,3}$/.test(language)) throw invalid('language', 'language', 'The language must be a code such as fr or en.');
  const licence = checkLicence(input.licence?.trim() || current?.licence);
  const authorName = (input.author ?? current?.authorName ?? defaultAuthor).replace(/\s+/g, ' ').trim() || defaultAuthor;
  if (Array.from(authorName).length > LIMITS.author)
    throw invalid('author', 'author', `The author must have at most ${LIMITS.author} characters.`);
  const status = (input.status?.trim() || current?.status || 'published') as ResourceStatus;
  if (status !== 'published' && status !== 'unpublished') throw invalid('status', 'status', 'The status must be published or unpublished.');
  return {
    title,
    descriptionMarkdown: description,
    descriptionHtml,
    summary: toPlainText(descriptionHtml, 300),
    linkUrl,
    tags: input.tags === undefined ? (current?.tags ?? []) : normaliseTags(input.tags),
    audience,
    language,
    licence,
    authorName,
    status,
  };
}

export function searchText(p: { title: string; tags: string[]; summaryOrDescription: string }): SearchText {
  return { title: foldAccents(p.title), tags: foldAccents(p.tags.join(' ')), description: foldAccents(p.summaryOrDescription) };
}

function formatsOf(files: FileRow[], linkUrl: string | null): string[] {
  const out = new Set<string>();
  for (const f of currentVersions(files)) {
    const kind = f.kind as FileKind | null;
    if (kind && FILE_KINDS.includes(kind)) out.add(KINDS[kind].category);
    else out.add('other');
  }
  if (linkUrl) out.add('link');
  return [...out].sort();
}

/** The newest version of each slot. */
export function currentVersions(files: FileRow[]): FileRow[] {
  const seen = new Map<number, FileRow>();
  for (const f of files) {
    const known = seen.get(f.slot);
    if (!known || known.version < f.version) seen.set(f.slot, f);
  }
  return [...seen.values()].sort((a, b) => a.slot - b.slot);
}

function fromRow(row: ResourceRow): Prepared {
  return {
    title: row.title,
    descriptionMarkdown: row.descriptionMarkdown ?? '',
    descriptionHtml: row.descriptionHtml,
    summary: row.summary,
    linkUrl: row.linkUrl,
    tags: row.tags,
    audience: row.audience,
    language: row.language,
    licence: row.licence,
    authorName: row.authorName,
    status: row.status,
  };
}

async function loadLocal(db: Db, id: string): Promise<ResourceRow> {
  const row = await findResource(db, id);
  if (!row) throw new AppError('not_found', 'No such resource.');
  if (row.origin !== 'local') throw new AppError('forbidden', 'This resource belongs to another network: it can only be changed there.');
  return row;
}

/** Checks the metadata alone (before files are stored, when the caller can). */
export function validateInput(input: ResourceInput, defaultAuthor: string): void {
  prepare(input, undefined, defaultAuthor);
}

export async function createResource(
  deps: Deps,
  user: { id: string; displayName: string | null },
  input: ResourceInput,
  files: StoredFile[],
): Promise<string> {
  const p = prepare(input, undefined, user.displayName ?? 'Anonyme');
  if (files.length === 0 && !p.linkUrl) throw invalid('files', 'nothing', 'Give at least one file or a link.');
  if (files.length > LIMITS.files) throw invalid('files', 'files', `At most ${LIMITS.files} files.`);
  const id = await insertResource(
    deps.db,
    { ...p, origin: 'local', actorId: null, networkName: null, networkHandle: null, authorUserId: user.id },
    searchText({ title: p.title, tags: p.tags, summaryOrDescription: toPlainText(p.descriptionHtml, 20_000) }),
    (newId) => ({ apId: `${deps.publicUrl}/resources/${newId}`, url: `${deps.publicUrl}/resources/${newId}` }),
  );
  for (const file of files) {
    await insertFile(deps.db, id, {
      name: file.name,
      kind: file.kind,
      mediaType: KINDS[file.kind].mediaType,
      size: file.size,
      hash: file.hash,
      remoteUrl: null,
      uploadedBy: user.id,
    });
  }
  await setFormats(deps.db, id, formatsOf(await listFiles(deps.db, id), p.linkUrl));
  if (p.status === 'published') await deps.events.publish(deps.db, 'resource.published', { id });
  return id;
}

export async function updateResource(deps: Deps, id: string, input: ResourceInput): Promise<void> {
  const row = await loadLocal(deps.db, id);
  const p = prepare(input, fromRow(row), row.authorName);
  const files = await listFiles(deps.db, id);
  if (files.length === 0 && !p.linkUrl) throw invalid('link', 'nothing', 'A resource without a file needs a link.');
  await updateResourceRow(
    deps.db,
    id,
    {
      ...p,
      networkName: null,
      networkHandle: null,
      ...(row.status !== 'published' && p.status === 'published' ? { publishedAt: new Date() } : {}),
    },
    searchText({ title: p.title, tags: p.tags, summaryOrDescription: toPlainText(p.descriptionHtml, 20_000) }),
  );
  await setFormats(deps.db, id, formatsOf(files, p.linkUrl));
  await announceChange(deps, row, p.status);
}

async function announceChange(deps: Deps, before: ResourceRow, after: ResourceStatus): Promise<void> {
  if (before.status === 'published' && after === 'published') await deps.events.publish(deps.db, 'resource.updated', { id: before.id });
  else if (before.status !== 'published' && after === 'published')
    await deps.events.publish(deps.db, 'resource.published', { id: before.id });
  else if (before.status === 'published' && after !== 'published') {
    await deps.events.publish(deps.db, 'resource.deleted', { id: before.id, apId: before.apId });
  }
}

export async function setPublished(deps: Deps, id: string, published: boolean): Promise<void> {
  const row = await loadLocal(deps.db, id);
  const status: ResourceStatus = published ? 'published' : 'unpublished';
  if (row.status === status) return;
  await setStatus(deps.db, id, status);
  await announceChange(deps, row, status);
}

/** Adds a file (new slot) or, with `replaces`, a new version of that file; older versions are kept. */
export async function addFile(deps: Deps, id: string, userId: string, file: StoredFile, replaces?: string): Promise<FileRow> {
  const row = await loadLocal(deps.db, id);
  let slot: number | undefined;
  if (replaces) {
    const old = await findFile(deps.db, id, replaces);
    if (!old) throw invalid('replaces', 'replaces', 'The file to replace is not a file of this resource.');
    slot = old.slot;
  } else if (currentVersions(await listFiles(deps.db, id)).length >= LIMITS.files) {
    throw invalid('files', 'files', `At most ${LIMITS.files} files.`);
  }
  const inserted = await insertFile(
    deps.db,
    id,
    {
      name: file.name,
      kind: file.kind,
      mediaType: KINDS[file.kind].mediaType,
      size: file.size,
      hash: file.hash,
      remoteUrl: null,
      uploadedBy: userId,
    },
    slot,
  );
  await setFormats(deps.db, id, formatsOf(await listFiles(deps.db, id), row.linkUrl));
  await touchResource(deps.db, id);
  if (row.status === 'published') await deps.events.publish(deps.db, 'resource.updated', { id });
  return inserted;
}

/** Deletes a local resource and its file rows; returns the content hashes it referred to. */
export async function deleteResource(deps: Deps, id: string): Promise<string[]> {
  const row = await loadLocal(deps.db, id);
  const hashes = (await listFiles(deps.db, id)).map((f) => f.hash).filter((h): h is string => h !== null);
  await deleteResourceRow(deps.db, id);
  if (row.status === 'published') await deps.events.publish(deps.db, 'resource.deleted', { id, apId: row.apId });
  return hashes;
}

export interface ResourceView {
  resource: ResourceRow;
  current: FileRow[];
  /** Older versions, by slot. */
  older: FileRow[];
}

/** A resource and its files; unpublished ones only for `editor`. */
export async function viewResource(db: Db, id: string, editor: boolean): Promise<ResourceView> {
  const resource = await findResource(db, id);
  if (!resource || (resource.status !== 'published' && !editor)) throw new AppError('not_found', 'No such resource.');
  const files = await listFiles(db, id);
  const current = currentVersions(files);
  const currentIds = new Set(current.map((f) => f.id));
  return { resource, current, older: files.filter((f) => !currentIds.has(f.id)) };
}
