// The moderation REST API: held posts and their approval, reports, bans, membership decisions,
// moderators, the moderation log, and the instance setting that holds untrusted servers' comments.
// Group moderators act in their group; staff administrators everywhere (and on comments).
import { Type } from 'typebox';
import { requireRole } from '../accounts/guards.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { readablePost, requireModerator } from './discussions.api-access.ts';
import {
  BanSchema,
  banJson,
  errors,
  IdParams,
  LogSchema,
  logJson,
  PageQuery,
  PostSchema,
  postJson,
  ReasonSchema,
  ReportSchema,
  reportJson,
} from './discussions.schemas.ts';
import { holdUntrusted, setHoldUntrusted } from './discussions.settings.ts';
import { requireMember } from './member-auth.ts';
import { decideMembership, setModerator } from './memberships.service.ts';
import { findBanById, findReportById, listBans, listModerationLog, listReports } from './moderation.repository.ts';
import { approvePost, banMember, closeReport, reportPost, unban } from './moderation.service.ts';
import { findPostById, listHeldPosts } from './posts.repository.ts';
import { personApId } from './posts.service.ts';

const tags = ['discussions'];
const security = [{ bearer: [] }];
const GroupQuery = Type.Object({ ...PageQuery.properties, groupId: Type.Optional(Type.String({ format: 'uuid' })) });

export async function registerModerationApi(app: AppServer, ctx: AppContext): Promise<void> {
  app.post(
    '/api/v1/discussions/posts/:id/reports',
    {
      schema: {
        tags,
        summary: 'Report a post to the moderators (anyone signed in)',
        security,
        params: IdParams,
        body: ReasonSchema,
        response: { 201: ReportSchema, ...errors },
      },
    },
    async (request, reply) => {
      const report = await ctx.db.transaction().execute(async (trx) => {
        const post = await readablePost(ctx, trx, request, await findPostById(trx, request.params.id));
        const member = await requireMember(ctx, request, trx);
        return reportPost(ctx, trx, { postId: post.id, reporter: personApId(ctx, member.username), reason: request.body.reason });
      });
      return reply.code(201).send(reportJson(report));
    },
  );

  app.post(
    '/api/v1/discussions/posts/:id/approve',
    {
      schema: {
        tags,
        summary: 'Approve a held post (moderators)',
        security,
        params: IdParams,
        body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) })),
        response: { 200: PostSchema, ...errors },
      },
    },
    async (request) =>
      postJson(
        await ctx.db.transaction().execute(async (trx) => {
          const post = await findPostById(trx, request.params.id);
          if (!post) throw new AppError('not_found', 'This message does not exist.');
          const moderator = await requireModerator(ctx, trx, request, post.group_id);
          return approvePost(ctx, trx, { postId: post.id, moderator, reason: request.body?.reason ?? '' });
        }),
      ),
  );

  app.get(
    '/api/v1/discussions/moderation/held',
    {
      schema: {
        tags,
        summary: 'Posts waiting for approval, oldest first',
        security,
        querystring: GroupQuery,
        response: { 200: Type.Object({ items: Type.Array(PostSchema), hasMore: Type.Boolean() }), ...errors },
      },
    },
    async (request) => {
      const { page = 1, limit = 50, groupId } = request.query;
      await requireModerator(ctx, ctx.db, request, groupId ?? null);
      const rows = await listHeldPosts(ctx.db, { ...(groupId ? { groupId } : {}), limit: limit + 1, offset: (page - 1) * limit });
      return { items: rows.slice(0, limit).map(postJson), hasMore: rows.length > limit };
    },
  );

  app.get(
    '/api/v1/discussions/moderation/reports',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags,
        summary: 'Reports, newest first (administrators)',
        security,
        querystring: Type.Object({
          ...PageQuery.properties,
          status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved'), Type.Literal('dismissed')])),
        }),
        response: { 200: Type.Object({ items: Type.Array(ReportSchema), hasMore: Type.Boolean() }), ...errors },
      },
    },
    async (request) => {
      const { page = 1, limit = 50, status } = request.query;
      const rows = await listReports(ctx.db, { ...(status ? { status } : {}), limit: limit + 1, offset: (page - 1) * limit });
      return { items: rows.slice(0, limit).map(reportJson), hasMore: rows.length > limit };
    },
  );

  app.post(
    '/api/v1/discussions/moderation/reports/:id',
    {
      schema: {
        tags,
        summary: 'Close a report',
        security,
        params: IdParams,
        body: Type.Object({
          status: Type.Union([Type.Literal('resolved'), Type.Literal('dismissed')]),
          reason: Type.String({ maxLength: 2000 }),
        }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await ctx.db.transaction().execute(async (trx) => {
        const report = await findReportById(trx, request.params.id);
        if (!report) throw new AppError('not_found', 'This report does not exist.');
        const post = report.post_id ? await findPostById(trx, report.post_id) : undefined;
        const moderator = await requireModerator(ctx, trx, request, post?.group_id ?? null);
        await closeReport(ctx, trx, { reportId: report.id, status: request.body.status, moderator, reason: request.body.reason });
      });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/discussions/moderation/bans',
    {
      schema: {
        tags,
        summary: 'Ban an actor from a group (or, without groupId, from every group and comment here); wholeServer bans their server too',
        security,
        body: Type.Object({
          actor: Type.String({ format: 'uri', maxLength: 2000, description: 'ActivityPub id of the actor' }),
          groupId: Type.Optional(Type.String({ format: 'uuid' })),
          wholeServer: Type.Optional(Type.Boolean()),
          reason: Type.String({ minLength: 1, maxLength: 2000 }),
        }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const { actor, groupId, wholeServer = false, reason } = request.body;
      await ctx.db.transaction().execute(async (trx) => {
        const moderator = await requireModerator(ctx, trx, request, groupId ?? null);
        if (actor === moderator) throw new AppError('bad_request', 'You cannot ban yourself.');
        await banMember(ctx, trx, { groupId: groupId ?? null, actorApId: actor, wholeServer, moderator, reason });
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/discussions/moderation/bans',
    {
      schema: {
        tags,
        summary: 'Bans (of a group, and those of the whole instance)',
        security,
        querystring: GroupQuery,
        response: { 200: Type.Object({ items: Type.Array(BanSchema) }), ...errors },
      },
    },
    async (request) => {
      const { groupId } = request.query;
      await requireModerator(ctx, ctx.db, request, groupId ?? null);
      return { items: (await listBans(ctx.db, groupId ? { groupId } : {})).map(banJson) };
    },
  );

  app.delete(
    '/api/v1/discussions/moderation/bans/:id',
    {
      schema: {
        tags,
        summary: 'Lift a ban',
        security,
        params: IdParams,
        querystring: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await ctx.db.transaction().execute(async (trx) => {
        const ban = await findBanById(trx, request.params.id);
        if (!ban) throw new AppError('not_found', 'This ban does not exist.');
        const moderator = await requireModerator(ctx, trx, request, ban.group_id);
        await unban(ctx, trx, { banId: ban.id, moderator, reason: request.query.reason ?? '' });
      });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/discussions/groups/:id/members/decision',
    {
      schema: {
        tags,
        summary: 'Accept or refuse a pending membership (moderators)',
        security,
        params: IdParams,
        body: Type.Object({
          actor: Type.String({ maxLength: 2000 }),
          accept: Type.Boolean(),
          reason: Type.Optional(Type.String({ maxLength: 2000 })),
        }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await ctx.db.transaction().execute(async (trx) => {
        const moderator = await requireModerator(ctx, trx, request, request.params.id);
        await decideMembership(ctx, trx, {
          groupId: request.params.id,
          actorApId: request.body.actor,
          accept: request.body.accept,
          moderator,
          reason: request.body.reason ?? '',
        });
      });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/discussions/groups/:id/moderators',
    {
      schema: {
        tags,
        summary: 'Make a member a moderator of the group, or not any more (moderators)',
        security,
        params: IdParams,
        body: Type.Object({ actor: Type.String({ maxLength: 2000 }), moderator: Type.Boolean() }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await ctx.db.transaction().execute(async (trx) => {
        const by = await requireModerator(ctx, trx, request, request.params.id);
        await setModerator(ctx, trx, { groupId: request.params.id, actorApId: request.body.actor, moderator: request.body.moderator, by });
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/discussions/moderation/log',
    {
      schema: {
        tags,
        summary: 'The moderation log, newest first',
        security,
        querystring: GroupQuery,
        response: { 200: Type.Object({ items: Type.Array(LogSchema), hasMore: Type.Boolean() }), ...errors },
      },
    },
    async (request) => {
      const { page = 1, limit = 50, groupId } = request.query;
      await requireModerator(ctx, ctx.db, request, groupId ?? null);
      const rows = await listModerationLog(ctx.db, { ...(groupId ? { groupId } : {}), limit: limit + 1, offset: (page - 1) * limit });
      return { items: rows.slice(0, limit).map(logJson), hasMore: rows.length > limit };
    },
  );

  const SettingsSchema = Type.Object({
    holdUntrusted: Type.Boolean({
      description: 'Hold comments from servers neither followed nor following until a moderator approves them',
    }),
  });
  app.get(
    '/api/v1/discussions/settings',
    {
      preHandler: requireRole('admin'),
      schema: { tags, summary: 'Discussion settings (administrators)', security, response: { 200: SettingsSchema, ...errors } },
    },
    async () => ({ holdUntrusted: await holdUntrusted(ctx.db) }),
  );
  app.put(
    '/api/v1/discussions/settings',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags,
        summary: 'Change discussion settings (administrators)',
        security,
        body: SettingsSchema,
        response: { 200: SettingsSchema, ...errors },
      },
    },
    async (request) => {
      await setHoldUntrusted(ctx.db, request.body.holdUntrusted);
      return { holdUntrusted: await holdUntrusted(ctx.db) };
    },
  );
}
