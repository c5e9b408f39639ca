// What the library's route files share: the module (context + file storage), the service
// dependencies for a transaction, and the upload-then-transaction sequence with its clean-up.
import path from 'node:path';
import type { AppContext } from '../core/context.ts';
import { LocalFileStorage } from '../storage/local-storage.ts';
import type { FileStorage } from '../storage/storage.ts';
import { unreferencedHashes } from './resources.repository.ts';
import { type Deps, deleteResource } from './resources.service.ts';
import { discardStored, field, type Upload } from './resources.upload.ts';

export function fileStorageFor(ctx: AppContext): FileStorage {
  return new LocalFileStorage(path.join(ctx.config.dataDir, 'files'));
}

export interface ResourcesModule {
  ctx: AppContext;
  storage: FileStorage;
}

export function deps(ctx: AppContext, db: Deps['db']): Deps {
  return { db, events: ctx.events, publicUrl: ctx.config.publicUrl };
}

/** The metadata fields of a multipart upload, as service input. */
export function inputFromUpload(upload: Upload) {
  return {
    title: field(upload, 'title'),
    description: field(upload, 'description'),
    link: field(upload, 'link'),
    tags: upload.fields.tags && upload.fields.tags.length > 1 ? upload.fields.tags : field(upload, 'tags'),
    audience: field(upload, 'audience'),
    language: field(upload, 'language'),
    licence: field(upload, 'licence'),
    author: field(upload, 'author'),
    status: field(upload, 'status'),
  };
}

/** Runs `work` in a transaction; if it fails, removes the contents this upload stored. */
export async function withUpload<T>(m: ResourcesModule, upload: Upload, work: (d: Deps) => Promise<T>): Promise<T> {
  try {
    return await m.ctx.db.transaction().execute((trx) => work(deps(m.ctx, trx)));
  } catch (error) {
    await discardStored(m.ctx.db, m.storage, upload.created);
    throw error;
  }
}

/** Deletes a resource, then the stored contents no other resource uses. */
export async function removeResource(m: ResourcesModule, id: string): Promise<void> {
  const hashes = await m.ctx.db.transaction().execute((trx) => deleteResource(deps(m.ctx, trx), id));
  await discardStored(m.ctx.db, m.storage, hashes);
}

/**
 * Removes stored contents that no resource refers to and that were not written for the last
 * `graceMs` (an upload in progress has not committed its row yet). Such orphans are left by a crash
 * between an upload and its transaction. Returns how many were removed.
 */
export async function sweepOrphanFiles(m: ResourcesModule, graceMs = 60 * 60 * 1000): Promise<number> {
  const cutoff = Date.now() - graceMs;
  let removed = 0;
  let batch: string[] = [];
  const flush = async () => {
    for (const hash of await unreferencedHashes(m.ctx.db, batch)) {
      await m.storage.delete(hash);
      removed++;
    }
    batch = [];
  };
  for await (const file of m.storage.list()) {
    if (file.modifiedAt.getTime() > cutoff) continue;
    batch.push(file.hash);
    if (batch.length >= 500) await flush();
  }
  await flush();
  return removed;
}
