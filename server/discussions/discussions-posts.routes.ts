// The discussions REST API for posts: one post, its thread (a page at a time), replies, edits,
// removal, comments under announcements and resources, and posts by hashtag. Members act with
// their member session (cookie and x-csrf-token header), staff with an API token.
import { Type } from 'typebox';
import { normalizeTag } from '../announcements/announcements.domain.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { isModeratorOf, readablePost, requireModerator } from './discussions.api-access.ts';
import {
  CommentSchema,
  EditPostSchema,
  errors,
  IdParams,
  PageQuery,
  PostPageSchema,
  PostSchema,
  postJson,
  ReplySchema,
} from './discussions.schemas.ts';
import { requireMember } from './member-auth.ts';
import { countThread, findPostById, listComments, listPublicPostsByTag, listThread } from './posts.repository.ts';
import { createLocalPost, editLocalPost, personApId, removePost } from './posts.service.ts';

const tags = ['discussions'];
// Staff send their API token; members their session cookie (amap_member) with an x-csrf-token header.
const memberSecurity: Array<Record<string, string[]>> = [{ bearer: [] }];

export async function registerPostsApi(app: AppServer, ctx: AppContext): Promise<void> {
  app.get(
    '/api/v1/discussions/tags/:tag',
    {
      schema: {
        tags,
        summary: 'Public posts carrying a hashtag, newest first',
        params: Type.Object({ tag: Type.String({ minLength: 1, maxLength: 60 }) }),
        querystring: PageQuery,
        response: { 200: PostPageSchema, ...errors },
      },
    },
    async (request) => {
      const tag = normalizeTag(request.params.tag);
      if (!tag) throw new AppError('validation_failed', 'A tag holds letters, digits, - and _.');
      const { page = 1, limit = 50 } = request.query;
      const rows = await listPublicPostsByTag(ctx.db, tag, { limit: limit + 1, offset: (page - 1) * limit });
      return { items: rows.slice(0, limit).map(postJson), page, limit, hasMore: rows.length > limit };
    },
  );

  app.get(
    '/api/v1/discussions/posts/:id',
    {
      schema: { tags, summary: 'One post', security: [{}, ...memberSecurity], params: IdParams, response: { 200: PostSchema, ...errors } },
    },
    async (request) => postJson(await readablePost(ctx, ctx.db, request, await findPostById(ctx.db, request.params.id))),
  );

  app.get(
    '/api/v1/discussions/posts/:id/thread',
    {
      schema: {
        tags,
        summary: 'The thread of a post, in reading order (each reply under its parent), a page at a time',
        security: [{}, ...memberSecurity],
        params: IdParams,
        querystring: PageQuery,
        response: { 200: PostPageSchema, ...errors },
      },
    },
    async (request) => {
      const post = await readablePost(ctx, ctx.db, request, await findPostById(ctx.db, request.params.id));
      const threadId = post.thread_id ?? post.id;
      const { page = 1, limit = 50 } = request.query;
      const includeHeld = await isModeratorOf(ctx, ctx.db, request, post.group_id);
      const rows = await listThread(ctx.db, threadId, { limit: limit + 1, offset: (page - 1) * limit, includeHeld });
      return {
        items: rows.slice(0, limit).map(postJson),
        page,
        limit,
        hasMore: rows.length > limit,
        total: await countThread(ctx.db, threadId),
      };
    },
  );

  app.post(
    '/api/v1/discussions/posts/:id/replies',
    {
      schema: {
        tags,
        summary: 'Reply to a post',
        security: memberSecurity,
        params: IdParams,
        body: ReplySchema,
        response: { 201: PostSchema, ...errors },
      },
    },
    async (request, reply) => {
      const post = await ctx.db.transaction().execute(async (trx) => {
        const parent = await readablePost(ctx, trx, request, await findPostById(trx, request.params.id));
        return createLocalPost(ctx, trx, {
          member: await requireMember(ctx, request, trx),
          inReplyTo: parent.id,
          markdown: request.body.body,
        });
      });
      return reply.code(201).header('location', `/api/v1/discussions/posts/${post.id}`).send(postJson(post));
    },
  );

  app.patch(
    '/api/v1/discussions/posts/:id',
    {
      schema: {
        tags,
        summary: 'Edit one of my posts',
        security: memberSecurity,
        params: IdParams,
        body: EditPostSchema,
        response: { 200: PostSchema, ...errors },
      },
    },
    async (request) =>
      postJson(
        await ctx.db.transaction().execute(async (trx) =>
          editLocalPost(ctx, trx, {
            member: await requireMember(ctx, request, trx),
            postId: request.params.id,
            markdown: request.body.body,
            ...(request.body.title !== undefined ? { title: request.body.title } : {}),
          }),
        ),
      ),
  );

  app.delete(
    '/api/v1/discussions/posts/:id',
    {
      schema: {
        tags,
        summary: 'Remove a post (its author, or a moderator with a reason)',
        security: memberSecurity,
        params: IdParams,
        querystring: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }),
        response: { 200: PostSchema, ...errors },
      },
    },
    async (request) =>
      postJson(
        await ctx.db.transaction().execute(async (trx) => {
          const post = await findPostById(trx, request.params.id);
          if (!post) throw new AppError('not_found', 'This message does not exist.');
          const member = await requireMember(ctx, request, trx);
          const me = personApId(ctx, member.username);
          if (post.author_ap_id === me)
            return removePost(ctx, trx, { postId: post.id, by: { authorApId: me }, reason: request.query.reason ?? '' });
          const moderator = await requireModerator(ctx, trx, request, post.group_id);
          const reason = request.query.reason?.trim();
          if (!reason) throw new AppError('validation_failed', 'A moderator says why (reason).');
          return removePost(ctx, trx, { postId: post.id, by: { moderator }, reason });
        }),
      ),
  );

  app.get(
    '/api/v1/discussions/comments',
    {
      schema: {
        tags,
        summary: 'Comments under an announcement or a resource, in reading order',
        querystring: Type.Object({
          ...PageQuery.properties,
          announcementId: Type.Optional(Type.String({ format: 'uuid' })),
          resourceId: Type.Optional(Type.String({ format: 'uuid' })),
        }),
        response: { 200: PostPageSchema, ...errors },
      },
    },
    async (request) => {
      const { page = 1, limit = 50, announcementId, resourceId } = request.query;
      if (!announcementId === !resourceId) throw new AppError('bad_request', 'Give announcementId or resourceId.');
      const target = announcementId ? { announcementId } : { resourceId: resourceId as string };
      const includeHeld = await isModeratorOf(ctx, ctx.db, request, null);
      const rows = await listComments(ctx.db, target, { limit: limit + 1, offset: (page - 1) * limit, includeHeld });
      return { items: rows.slice(0, limit).map(postJson), page, limit, hasMore: rows.length > limit };
    },
  );

  app.post(
    '/api/v1/discussions/comments',
    {
      schema: {
        tags,
        summary: 'Comment an announcement or a resource',
        security: memberSecurity,
        body: CommentSchema,
        response: { 201: PostSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { announcementId, resourceId, body } = request.body;
      if (!announcementId === !resourceId) throw new AppError('bad_request', 'Give announcementId or resourceId.');
      const post = await ctx.db.transaction().execute(async (trx) =>
        createLocalPost(ctx, trx, {
          member: await requireMember(ctx, request, trx),
          ...(announcementId ? { announcementId } : { resourceId: resourceId as string }),
          markdown: body,
        }),
      );
      return reply.code(201).header('location', `/api/v1/discussions/posts/${post.id}`).send(postJson(post));
    },
  );
}
