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
import {
  AUDIENCES,
  checkHttpUrl,
  checkLicence,
  checkPresentFields,
  currentVersions,
  fromRow,
  invalid,
  LIMITS,
  normaliseTags,
  prepare,
  type ResourceInput,
  searchText,
} from './resources.domain.ts';
import {
  deleteResourceRow,
  type FileRow,
  findFile,
  findResource,
  insertFile,
  insertResource,
  listFiles,
  type ResourceRow,
  setFormats,
  setStatus,
  touchResource,
  updateResourceRow,
} from './resources.repository.ts';
import type { ResourceStatus } from './resources.tables.ts';
import './resources.events.ts';

// Re-exported: routes and pages import the rules from here.
export {
  AUDIENCES,
  checkHttpUrl,
  checkLicence,
  checkPresentFields,
  currentVersions,
  LIMITS,
  normaliseTags,
  type ResourceInput,
  searchText,
};

type Db = Kysely<Database>;

export interface Deps {
  db: Db;
  events: DomainEvents;
  publicUrl: string;
}

/** A file already in the storage, with its checked kind. */
export interface StoredFile {
  hash: string;
  size: number;
  kind: FileKind;
  name: string;
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

async function loadLocal(db: Db, id: string): Promise<ResourceRow> {
  const row = await findResource(db, id);
  if (!row) throw new AppError('not_found', 'No such resource.');
  if (row.origin !== 'local') throw new AppError('forbidden', 'This resource belongs to another network: it can only be changed there.');
  return row;
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
