// Receiving a multipart upload (form or API): each file streams straight into the file storage,
// where its size is capped while it arrives and its real type checked before it is kept; the
// other fields are collected as text. If anything goes wrong, the files this request stored are
// removed again (unless another resource already uses the same content), so a refused or broken
// upload leaves nothing behind.
import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { AppError } from '../core/errors.ts';
import type { Database } from '../db/schema.ts';
import { safeFileName } from '../storage/file-name.ts';
import { contentCheck, type FileKind } from '../storage/file-type.ts';
import type { FileStorage } from '../storage/storage.ts';
import { readNumberSetting, unreferencedHashes } from './resources.repository.ts';
import type { StoredFile } from './resources.service.ts';

export const MAX_FILE_BYTES_SETTING = 'resources.max_file_bytes';
export const DEFAULT_MAX_FILE_BYTES = 25 * 1024 * 1024;

export async function maxFileBytes(db: Kysely<Database>): Promise<number> {
  const value = await readNumberSetting(db, MAX_FILE_BYTES_SETTING);
  return value !== undefined && value > 0 ? value : DEFAULT_MAX_FILE_BYTES;
}

/**
 * Requests whose upload was cut short: the rest of their body is never read, so their connection
 * must close after the answer (a kept-alive connection would hang the client's next request).
 */
export const abortedUploads = new WeakSet<FastifyRequest>();

export interface Upload {
  fields: Record<string, string[]>;
  files: StoredFile[];
  /** Hashes this request added to the storage (to remove if the request fails later). */
  created: string[];
}

export function field(upload: Upload, name: string): string | undefined {
  return upload.fields[name]?.[0];
}

/** Removes stored contents that no resource refers to (after a failed request). */
export async function discardStored(db: Kysely<Database>, storage: FileStorage, hashes: string[]): Promise<void> {
  for (const hash of await unreferencedHashes(db, hashes)) await storage.delete(hash);
}

export async function receiveUpload(
  request: FastifyRequest,
  db: Kysely<Database>,
  storage: FileStorage,
  options: {
    maxBytes: number;
    maxFiles: number;
    /** Checks the fields received so far before the first file streams in (refuse early, store nothing). */
    beforeFiles?: (fields: Record<string, string[]>) => void;
  },
): Promise<Upload> {
  if (!request.isMultipart()) {
    throw new AppError('unsupported_media_type', 'Send the resource as multipart/form-data (fields and files).');
  }
  const upload: Upload = { fields: {}, files: [], created: [] };
  try {
    const parts = request.parts({
      limits: { fileSize: options.maxBytes + 1, files: options.maxFiles, fields: 50, fieldSize: 128 * 1024, parts: 100 },
    });
    for await (const part of parts as AsyncIterableIterator<Multipart>) {
      if (part.type === 'field') {
        // busboy cuts an over-long field silently: refuse rather than store half a description.
        if (part.valueTruncated) throw new AppError('payload_too_large', `The field ${part.fieldname} is too long.`);
        if (typeof part.value === 'string') {
          const list = upload.fields[part.fieldname] ?? [];
          list.push(part.value);
          upload.fields[part.fieldname] = list;
        }
        continue;
      }
      // A form's empty file input arrives as a part with no name and no content: skip it.
      if (!part.filename) {
        part.file.resume();
        continue;
      }
      if (upload.files.length === 0) options.beforeFiles?.(upload.fields);
      const name = safeFileName(part.filename);
      const stored = await storage.put<FileKind>(part.file, { maxBytes: options.maxBytes, check: contentCheck(name) });
      if (stored.created) upload.created.push(stored.hash);
      upload.files.push({ hash: stored.hash, size: stored.size, kind: stored.checked, name });
    }
  } catch (error) {
    abortedUploads.add(request);
    await discardStored(db, storage, upload.created).catch((e) => request.log.error({ err: e }, 'could not remove refused upload'));
    throw translateMultipartError(error);
  }
  return upload;
}

function translateMultipartError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const code = (error as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new AppError('payload_too_large', 'The file is larger than the limit.');
  if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return new AppError('payload_too_large', 'Too many files or fields in one request.');
  }
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return new AppError('unsupported_media_type', 'Send multipart/form-data.');
  // The client hung up or sent a broken body: a 400, not a server fault.
  if (code === 'ECONNRESET' || (error as Error).message?.includes('Unexpected end of form') || (error as Error).message === 'aborted') {
    return new AppError('bad_request', 'The upload was interrupted.');
  }
  return error;
}
