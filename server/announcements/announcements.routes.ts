// The announcements capability: the REST API (/api/v1/announcements) here; public pages, feeds,
// admin pages and the live feed are registered from their own files.
import { hasRole, requireRole } from '../accounts/guards.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { mediaFor } from '../media/media.module.ts';
import { registerRealtime } from '../realtime/realtime.routes.ts';
import { registerAnnouncementAdminPages } from './announcements.admin.pages.ts';
import { normalizeTag } from './announcements.domain.ts';
import { registerAnnouncementFeeds } from './announcements.feeds.ts';
import { withLocalImages } from './announcements.images.ts';
import { registerAnnouncementPages } from './announcements.pages.ts';
import { listAnnouncements } from './announcements.repository.ts';
import {
  AnnouncementSchema,
  CreateAnnouncementSchema,
  ErrorSchema,
  IdParamsSchema,
  ListQuerySchema,
  ListSchema,
  toJson,
  UpdateAnnouncementSchema,
} from './announcements.schemas.ts';
import { createAnnouncement, deleteAnnouncement, readableAnnouncement, updateAnnouncement } from './announcements.service.ts';

export async function registerAnnouncements(app: AppServer, ctx: AppContext): Promise<void> {
  await app.register(async (scope) => registerRealtime(scope, ctx));
  await app.register(async (scope) => registerAnnouncementApi(scope, ctx));
  await app.register(async (scope) => registerAnnouncementPages(scope, ctx));
  await app.register(async (scope) => registerAnnouncementFeeds(scope, ctx));
  await app.register(async (scope) => registerAnnouncementAdminPages(scope, ctx));
}

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 410: ErrorSchema };
const writeSecurity = [{ bearer: [] }];

async function registerAnnouncementApi(app: AppServer, ctx: AppContext): Promise<void> {
  const deps = { config: ctx.config, events: ctx.events };

  app.get(
    '/api/v1/announcements',
    {
      schema: {
        tags: ['announcements'],
        summary: 'List announcements, newest first (local and received from other networks)',
        description: 'Public. Drafts (status=draft or all) need an editor token.',
        security: [{}, { bearer: [] }],
        querystring: ListQuerySchema,
        response: { 200: ListSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (request) => {
      const { origin = 'all', network, tag, status = 'published', page = 1, limit = 20 } = request.query;
      if (status !== 'published') {
        if (!request.user) throw new AppError('unauthorized', 'Send an editor token to list drafts.');
        if (!hasRole(request.user, 'editor')) throw new AppError('forbidden', 'Only editors may list drafts.');
      }
      const normalizedTag = tag === undefined ? undefined : normalizeTag(tag);
      if (normalizedTag === null) throw new AppError('validation_failed', 'tag may hold only letters, digits, - and _.');
      const rows = await listAnnouncements(ctx.db, {
        origin,
        ...(network ? { networkHandle: network } : {}),
        ...(normalizedTag ? { tag: normalizedTag } : {}),
        status,
        limit: limit + 1,
        offset: (page - 1) * limit,
      });
      return { items: rows.slice(0, limit).map(toJson), page, limit, hasMore: rows.length > limit };
    },
  );

  app.get(
    '/api/v1/announcements/:id',
    {
      schema: {
        tags: ['announcements'],
        summary: 'One announcement (410 Gone once deleted)',
        security: [{}, { bearer: [] }],
        params: IdParamsSchema,
        response: { 200: AnnouncementSchema, 404: ErrorSchema, 410: ErrorSchema },
      },
    },
    async (request) => toJson(await readableAnnouncement(ctx.db, request.params.id, hasRole(request.user, 'editor'))),
  );

  app.post(
    '/api/v1/announcements',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['announcements'],
        summary: 'Write an announcement (a draft unless status is published)',
        security: writeSecurity,
        body: CreateAnnouncementSchema,
        response: { 201: AnnouncementSchema, ...errors },
      },
    },
    async (request, reply) => {
      const author = request.user ? { id: request.user.id } : null;
      const input = await withLocalImages(mediaFor(ctx), request.body, true);
      const row = await ctx.db.transaction().execute((trx) => createAnnouncement(trx, deps, author, input));
      return reply.code(201).header('location', `/api/v1/announcements/${row.id}`).send(toJson(row));
    },
  );

  app.patch(
    '/api/v1/announcements/:id',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['announcements'],
        summary: 'Edit a local announcement (status: published publishes a draft)',
        security: writeSecurity,
        params: IdParamsSchema,
        body: UpdateAnnouncementSchema,
        response: { 200: AnnouncementSchema, ...errors },
      },
    },
    async (request) => {
      const input = await withLocalImages(mediaFor(ctx), request.body);
      const row = await ctx.db.transaction().execute((trx) => updateAnnouncement(trx, deps, request.params.id, input));
      return toJson(row);
    },
  );

  app.delete(
    '/api/v1/announcements/:id',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['announcements'],
        summary: 'Delete a local announcement (its page then answers 410 Gone)',
        security: writeSecurity,
        params: IdParamsSchema,
        response: { 204: { type: 'null', description: 'Deleted' }, ...errors },
      },
    },
    async (request, reply) => {
      await ctx.db.transaction().execute((trx) => deleteAnnouncement(trx, deps, request.params.id));
      return reply.code(204).send(null);
    },
  );
}
