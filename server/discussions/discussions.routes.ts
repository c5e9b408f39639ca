// The discussions REST API (/api/v1/discussions/...) for groups: list, create, change, close,
// join and leave, memberships, threads, and new threads (posts: discussions-posts.routes.ts).
// Members act with their member session (cookie and x-csrf-token header) or, for staff, with an
// API token (Authorization: Bearer).
import { Type } from 'typebox';
import { requireRole } from '../accounts/guards.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { assertReadGroup, requireModerator } from './discussions.api-access.ts';
import {
  ComposeSchema,
  CreateGroupSchema,
  errors,
  GroupSchema,
  groupJson,
  IdParams,
  MembershipSchema,
  membershipJson,
  PageQuery,
  PostSchema,
  postJson,
  UpdateGroupSchema,
} from './discussions.schemas.ts';
import { findGroupById, listGroups } from './groups.repository.ts';
import { closeGroup, updateGroup } from './groups.service.ts';
import { requireMember } from './member-auth.ts';
import { countMemberships, listMemberships } from './memberships.repository.ts';
import { createGroupModeratedBy, joinGroupIn, leaveGroupIn } from './memberships.service.ts';
import { listGroupThreads } from './posts.repository.ts';
import { createLocalPost } from './posts.service.ts';

const tags = ['discussions'];
// Staff send their API token; members their session cookie (amap_member) with an x-csrf-token header.
const memberSecurity: Array<Record<string, string[]>> = [{ bearer: [] }];

async function groupOr404(ctx: AppContext, id: string) {
  const group = await findGroupById(ctx.db, id);
  if (!group) throw new AppError('not_found', 'This group does not exist.');
  return group;
}

export async function registerDiscussionsApi(app: AppServer, ctx: AppContext): Promise<void> {
  app.get(
    '/api/v1/discussions/groups',
    {
      schema: {
        tags,
        summary: 'Groups hosted here (and, with includeRemote, groups of other servers that people here joined)',
        querystring: Type.Object({ ...PageQuery.properties, includeRemote: Type.Optional(Type.Boolean()) }),
        response: {
          200: Type.Object({ items: Type.Array(GroupSchema), page: Type.Integer(), limit: Type.Integer(), hasMore: Type.Boolean() }),
          400: errors[400],
        },
      },
    },
    async (request) => {
      const { page = 1, limit = 50, includeRemote = false } = request.query;
      const rows = await listGroups(ctx.db, { includeRemote, limit: limit + 1, offset: (page - 1) * limit });
      return { items: rows.slice(0, limit).map((g) => groupJson(g)), page, limit, hasMore: rows.length > limit };
    },
  );

  app.post(
    '/api/v1/discussions/groups',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags,
        summary: 'Create a group (staff)',
        security: [{ bearer: [] }],
        body: CreateGroupSchema,
        response: { 201: GroupSchema, ...errors },
      },
    },
    async (request, reply) => {
      const group = await ctx.db.transaction().execute(async (trx) => {
        const creator = await requireMember(ctx, request, trx);
        return createGroupModeratedBy(ctx, trx, request.body, creator);
      });
      return reply.code(201).header('location', `/api/v1/discussions/groups/${group.id}`).send(groupJson(group, 1));
    },
  );

  app.get(
    '/api/v1/discussions/groups/:id',
    { schema: { tags, summary: 'One group', params: IdParams, response: { 200: GroupSchema, 404: errors[404] } } },
    async (request) => {
      const group = await groupOr404(ctx, request.params.id);
      return groupJson(group, await countMemberships(ctx.db, group.id));
    },
  );

  app.patch(
    '/api/v1/discussions/groups/:id',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags,
        summary: 'Change a local group (staff)',
        security: [{ bearer: [] }],
        params: IdParams,
        body: UpdateGroupSchema,
        response: { 200: GroupSchema, ...errors },
      },
    },
    async (request) => groupJson(await ctx.db.transaction().execute((trx) => updateGroup(ctx, trx, request.params.id, request.body))),
  );

  app.delete(
    '/api/v1/discussions/groups/:id',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags,
        summary: 'Close a group (administrators)',
        security: [{ bearer: [] }],
        params: IdParams,
        querystring: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await ctx.db.transaction().execute(async (trx) => {
        const moderator = await requireModerator(ctx, trx, request, null);
        await closeGroup(ctx, trx, { groupId: request.params.id, moderator, reason: request.query.reason ?? '' });
      });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/discussions/groups/:id/join',
    {
      schema: {
        tags,
        summary: 'Join a group (or ask to: status pending)',
        security: memberSecurity,
        params: IdParams,
        response: { 200: MembershipSchema, ...errors },
      },
    },
    async (request) =>
      membershipJson(
        await ctx.db
          .transaction()
          .execute(async (trx) => joinGroupIn(ctx, trx, { member: await requireMember(ctx, request, trx), groupId: request.params.id })),
      ),
  );

  app.post(
    '/api/v1/discussions/groups/:id/leave',
    { schema: { tags, summary: 'Leave a group', security: memberSecurity, params: IdParams, response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await ctx.db
        .transaction()
        .execute(async (trx) => leaveGroupIn(ctx, trx, { member: await requireMember(ctx, request, trx), groupId: request.params.id }));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/discussions/groups/:id/members',
    {
      schema: {
        tags,
        summary: "A group's memberships (its moderators and staff administrators)",
        security: memberSecurity,
        params: IdParams,
        querystring: Type.Object({
          ...PageQuery.properties,
          status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('banned')])),
        }),
        response: { 200: Type.Object({ items: Type.Array(MembershipSchema), hasMore: Type.Boolean() }), ...errors },
      },
    },
    async (request) => {
      const group = await groupOr404(ctx, request.params.id);
      await requireModerator(ctx, ctx.db, request, group.id);
      const { page = 1, limit = 50, status } = request.query;
      const rows = await listMemberships(ctx.db, group.id, { ...(status ? { status } : {}), limit: limit + 1, offset: (page - 1) * limit });
      return { items: rows.slice(0, limit).map(membershipJson), hasMore: rows.length > limit };
    },
  );

  app.get(
    '/api/v1/discussions/groups/:id/threads',
    {
      schema: {
        tags,
        summary: "A group's threads, newest activity first (members-only groups: members only)",
        security: [{}, ...memberSecurity],
        params: IdParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
          before: Type.Optional(Type.String({ format: 'date-time', description: 'lastActivityAt of the last thread seen' })),
        }),
        response: { 200: Type.Object({ items: Type.Array(PostSchema), next: Type.Union([Type.String(), Type.Null()]) }), ...errors },
      },
    },
    async (request) => {
      const group = await groupOr404(ctx, request.params.id);
      await assertReadGroup(ctx, ctx.db, request, group);
      const { limit = 20, before } = request.query;
      const rows = await listGroupThreads(ctx.db, group.id, { limit: limit + 1, ...(before ? { before: new Date(before) } : {}) });
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items: items.map(postJson), next: rows.length > limit && last ? new Date(last.last_activity_at).toISOString() : null };
    },
  );

  app.post(
    '/api/v1/discussions/groups/:id/posts',
    {
      schema: {
        tags,
        summary: 'Start a thread in a group (members)',
        security: memberSecurity,
        params: IdParams,
        body: ComposeSchema,
        response: { 201: PostSchema, ...errors },
      },
    },
    async (request, reply) => {
      const post = await ctx.db.transaction().execute(async (trx) =>
        createLocalPost(ctx, trx, {
          member: await requireMember(ctx, request, trx),
          groupId: request.params.id,
          title: request.body.title ?? null,
          markdown: request.body.body,
        }),
      );
      return reply.code(201).header('location', `/api/v1/discussions/posts/${post.id}`).send(postJson(post));
    },
  );
}
