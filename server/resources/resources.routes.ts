// The library over HTTP: the REST API under /api/v1/resources, the file downloads, and the pages
// (resources.pages.ts, resources.admin.ts). Uploads stream into the file storage before any
// transaction opens (PGlite has one connection: it is never held while a client is sending), then
// one short transaction records the resource and its event.
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import { requireRole } from '../accounts/guards.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { federationOf } from '../federation/federation.module.ts';
import { LICENCES } from './licences.ts';
import { registerResourceAdmin } from './resources.admin.ts';
import { downloadFile } from './resources.download.ts';
import { subscribeResourcesFederation } from './resources.federation.ts';
import {
  deps,
  fileStorageFor,
  inputFromUpload,
  type ResourcesModule,
  removeResource,
  sweepOrphanFiles,
  withUpload,
} from './resources.module.ts';
import { registerResourcePages } from './resources.pages.ts';
import {
  ErrorSchema,
  FileSchema,
  IdParams,
  ListQuery,
  PatchBody,
  presentFile,
  presentResource,
  presentSummary,
  ResourcePageSchema,
  ResourceSchema,
} from './resources.schemas.ts';
import { addFile, checkPresentFields, createResource, LIMITS, updateResource, viewResource } from './resources.service.ts';
import { abortedUploads, field, maxFileBytes, receiveUpload } from './resources.upload.ts';
import { searchResources } from './resources-search.repository.ts';
import { foldAccents } from './text.ts';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };
const uploadErrors = { ...errors, 413: ErrorSchema, 415: ErrorSchema };
const multipartDoc =
  'multipart/form-data with fields title, description (Markdown), link, tags (comma-separated), audience (everyone, amaps, farmers, networks), language, licence (cc-by-4.0, cc-by-sa-4.0, cc-by-nc-sa-4.0, cc0-1.0, etalab-2.0, all-rights-reserved), author, status; then one or more file parts. Put the fields before the files.';

export async function registerResources(app: AppServer, ctx: AppContext): Promise<void> {
  const m: ResourcesModule = { ctx, storage: fileStorageFor(ctx) };
  await app.register(multipart, { throwFileSizeLimit: true });
  app.addHook('onSend', async (request, reply) => {
    if (abortedUploads.has(request)) reply.header('connection', 'close');
  });

  app.get(
    '/api/v1/resources',
    {
      schema: {
        tags: ['resources'],
        summary: 'Search and browse the library',
        querystring: ListQuery,
        response: { 200: ResourcePageSchema, 400: ErrorSchema },
      },
    },
    async (request) => {
      const q = request.query;
      const page = q.page ?? 1;
      const perPage = q.perPage ?? 20;
      const result = await searchResources(ctx.db, {
        ...(q.q ? { q: foldAccents(q.q) } : {}),
        ...(q.network ? { network: q.network } : {}),
        ...(q.tag ? { tag: q.tag.toLowerCase() } : {}),
        ...(q.audience ? { audience: q.audience } : {}),
        ...(q.licence ? { licence: q.licence } : {}),
        ...(q.format ? { format: q.format } : {}),
        limit: perPage,
        offset: (page - 1) * perPage,
      });
      return { items: result.items.map(presentSummary), total: result.total, totalCapped: result.totalCapped, page, perPage };
    },
  );

  app.get(
    '/api/v1/resources/licences',
    {
      schema: {
        tags: ['resources'],
        summary: 'The licences a resource may carry (codes for the `licence` field)',
        response: {
          200: Type.Array(
            Type.Object({
              code: Type.String(),
              name: Type.String(),
              url: Type.Union([Type.String(), Type.Null()]),
              allows: Type.Object({ fr: Type.String(), en: Type.String() }),
            }),
          ),
        },
      },
    },
    async () => LICENCES.map((l) => ({ code: l.code, name: l.name, url: l.url, allows: l.allows })),
  );

  app.get(
    '/api/v1/resources/:id',
    {
      schema: {
        tags: ['resources'],
        summary: 'One resource with its files and their versions',
        params: IdParams,
        response: { 200: ResourceSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      const editor = request.user !== null;
      return presentResource(await viewResource(ctx.db, request.params.id, editor));
    },
  );

  app.post(
    '/api/v1/resources',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['resources'],
        summary: 'Add a resource (files and metadata)',
        description: multipartDoc,
        consumes: ['multipart/form-data'],
        security: [{ bearer: [] }],
        response: { 201: ResourceSchema, ...uploadErrors },
      },
    },
    async (request, reply) => {
      const user = request.user!;
      const upload = await receiveUpload(request, ctx.db, m.storage, {
        maxBytes: await maxFileBytes(ctx.db),
        maxFiles: LIMITS.files,
        beforeFiles: checkPresentFields,
      });
      const id = await withUpload(m, upload, (d) => createResource(d, user, inputFromUpload(upload), upload.files));
      return reply.code(201).send(presentResource(await viewResource(ctx.db, id, true)));
    },
  );

  app.patch(
    '/api/v1/resources/:id',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['resources'],
        summary: 'Edit the metadata of a resource',
        security: [{ bearer: [] }],
        params: IdParams,
        body: PatchBody,
        response: { 200: ResourceSchema, ...errors },
      },
    },
    async (request) => {
      await ctx.db.transaction().execute((trx) => updateResource(deps(ctx, trx), request.params.id, request.body));
      return presentResource(await viewResource(ctx.db, request.params.id, true));
    },
  );

  app.post(
    '/api/v1/resources/:id/files',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['resources'],
        summary: 'Add a file, or a new version of one (field `replaces` = id of the file replaced)',
        description: 'multipart/form-data with an optional field `replaces` and one file part. Older versions stay listed.',
        consumes: ['multipart/form-data'],
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 201: FileSchema, ...uploadErrors },
      },
    },
    async (request, reply) => {
      const user = request.user!;
      const id = request.params.id;
      await viewResource(ctx.db, id, true); // 404 before receiving anything
      const upload = await receiveUpload(request, ctx.db, m.storage, { maxBytes: await maxFileBytes(ctx.db), maxFiles: 1 });
      const file = upload.files[0];
      if (!file) throw new AppError('bad_request', 'Send one file.');
      const row = await withUpload(m, upload, (d) => addFile(d, id, user.id, file, field(upload, 'replaces')));
      return reply.code(201).send(presentFile(id, row, true));
    },
  );

  app.delete(
    '/api/v1/resources/:id',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['resources'],
        summary: 'Delete a resource and its files',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await removeResource(m, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/resources/:id/files/:fileId',
    { schema: { params: Type.Object({ id: Type.String(), fileId: Type.String() }) } },
    async (request, reply) => downloadFile(m, request, reply, request.params.id, request.params.fileId),
  );

  // Files orphaned by a crash between an upload and its transaction: removed once per start, in
  // the background, by the process that runs jobs.
  if (ctx.config.role !== 'web') {
    app.addHook('onReady', async () => {
      sweepOrphanFiles(m).then(
        (removed) => removed > 0 && ctx.log.info({ removed }, 'resources: removed orphaned files'),
        (error) => ctx.log.error({ err: error }, 'resources: could not sweep orphaned files'),
      );
    });
  }

  // Outgoing federation (Create/Update/Delete of Documents) when the federation module is present.
  const fed = federationOf(ctx);
  if (fed) subscribeResourcesFederation(fed.rt);

  await registerResourcePages(app, m);
  await registerResourceAdmin(app, m);
}
