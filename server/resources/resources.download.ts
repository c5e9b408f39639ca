// Serving a stored file so that it can never act in a reader's browser: the type comes from the
// checked content, nosniff stops the browser from guessing another, `sandbox` denies scripts even
// if something slipped through, and everything but images is a download (attachment).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { contentDisposition } from '../storage/file-name.ts';
import { FILE_KINDS, type FileKind, KINDS } from '../storage/file-type.ts';
import type { ResourcesModule } from './resources.module.ts';
import { findFile } from './resources.repository.ts';
import { viewResource } from './resources.service.ts';

const INLINE: ReadonlySet<FileKind> = new Set(['png', 'jpeg', 'gif', 'webp']);

export async function downloadFile(m: ResourcesModule, request: FastifyRequest, reply: FastifyReply, id: string, fileId: string) {
  const view = await viewResource(m.ctx.db, id, request.user !== null);
  const file = await findFile(m.ctx.db, view.resource.id, fileId);
  if (!file) throw new AppError('not_found', 'No such file.');
  if (file.remoteUrl) return reply.redirect(file.remoteUrl, 303);
  const kind = FILE_KINDS.includes(file.kind as FileKind) ? (file.kind as FileKind) : null;
  const stream = await m.storage.get(file.hash!);
  const inline =
    kind !== null && INLINE.has(kind) && request.query !== null && (request.query as Record<string, unknown>).download === undefined;
  reply
    .header('content-type', kind ? KINDS[kind].mediaType : 'application/octet-stream')
    .header('content-disposition', contentDisposition(inline ? 'inline' : 'attachment', file.name))
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "sandbox; default-src 'none'")
    .header('cross-origin-resource-policy', 'same-origin')
    .header('cache-control', view.resource.status === 'published' ? 'public, max-age=86400' : 'private, no-store')
    .header('etag', `"${file.hash}"`);
  if (file.size !== null) reply.header('content-length', String(file.size));
  if (request.headers['if-none-match'] === `"${file.hash}"`) {
    stream.destroy();
    return reply.code(304).send();
  }
  return reply.send(stream);
}
