// The moderation actions behind the forms of the moderation pages: approve or remove a post,
// accept or refuse a membership request, close a report, ban and lift a ban. Each checks the right
// to moderate where it applies (moderation.service's canModerate), requires a reason, logs it,
// then redirects (303) to the page with a status line.
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { personActorUri, withDone } from './discussions.access.ts';
import { requireMember } from './member-auth.ts';
import { decideMembership } from './memberships.service.ts';
import { findReportById, listBans } from './moderation.repository.ts';
import { approvePost, banMember, canModerate, closeReport, unban } from './moderation.service.ts';
import { findPostById } from './posts.repository.ts';
import { removePost } from './posts.service.ts';

const UUID = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const Reason = Type.String({ maxLength: 2000 });

export async function registerModerationActions(app: AppServer, ctx: AppContext): Promise<void> {
  async function moderator(request: FastifyRequest, groupId: string | null): Promise<string> {
    return ctx.db.transaction().execute(async (trx) => {
      const member = await requireMember(ctx, request, trx);
      const actorApId = personActorUri(ctx, member.username);
      if (!(await canModerate(trx, { user: request.user, member, actorApId }, groupId))) {
        throw new AppError('forbidden', 'Only the network’s administrators and the group’s moderators may do this.');
      }
      return actorApId;
    });
  }

  const ReasonBody = Type.Object({ _csrf: Type.Optional(Type.String()), reason: Reason });
  const requireReason = (reason: string) => {
    if (!reason.trim()) throw new AppError('validation_failed', 'A reason is required.');
    return reason.trim();
  };

  for (const action of ['approve', 'remove'] as const) {
    app.post(
      `/moderation/posts/:id/${action}`,
      { schema: { params: Type.Object({ id: UUID }), body: ReasonBody } },
      async (request, reply) => {
        const post = await findPostById(ctx.db, request.params.id);
        if (!post) throw new AppError('not_found', 'No such message.');
        const reason = requireReason(request.body.reason);
        const by = await moderator(request, post.group_id);
        await ctx.db.transaction().execute(async (trx) => {
          if (action === 'approve') await approvePost(ctx, trx, { postId: post.id, moderator: by, reason });
          else await removePost(ctx, trx, { postId: post.id, by: { moderator: by }, reason });
        });
        return reply.redirect(withDone('/moderation', 'moderated'), 303);
      },
    );
  }

  app.post(
    '/moderation/reports/:id/close',
    {
      schema: {
        params: Type.Object({ id: UUID }),
        body: Type.Object({
          _csrf: Type.Optional(Type.String()),
          reason: Reason,
          status: Type.Union([Type.Literal('resolved'), Type.Literal('dismissed')]),
        }),
      },
    },
    async (request, reply) => {
      const report = await findReportById(ctx.db, request.params.id);
      if (!report) throw new AppError('not_found', 'No such report.');
      const post = report.post_id ? await findPostById(ctx.db, report.post_id) : undefined;
      const reason = requireReason(request.body.reason);
      const by = await moderator(request, post?.group_id ?? null);
      await ctx.db
        .transaction()
        .execute((trx) => closeReport(ctx, trx, { reportId: report.id, status: request.body.status, moderator: by, reason }));
      return reply.redirect(withDone('/moderation', 'moderated'), 303);
    },
  );

  app.post(
    '/moderation/memberships',
    {
      schema: {
        body: Type.Object({
          _csrf: Type.Optional(Type.String()),
          groupId: UUID,
          actor: Type.String({ minLength: 1, maxLength: 500 }),
          decision: Type.Union([Type.Literal('accept'), Type.Literal('refuse')]),
          reason: Reason,
        }),
      },
    },
    async (request, reply) => {
      const { groupId, actor, decision } = request.body;
      const reason = requireReason(request.body.reason);
      const by = await moderator(request, groupId);
      await ctx.db
        .transaction()
        .execute((trx) => decideMembership(ctx, trx, { groupId, actorApId: actor, accept: decision === 'accept', moderator: by, reason }));
      return reply.redirect(withDone('/moderation', 'moderated'), 303);
    },
  );

  app.post(
    '/moderation/bans',
    {
      schema: {
        body: Type.Object({
          _csrf: Type.Optional(Type.String()),
          actor: Type.String({ minLength: 1, maxLength: 500 }),
          groupId: Type.Optional(Type.String({ maxLength: 40 })),
          reason: Reason,
        }),
      },
    },
    async (request, reply) => {
      const groupId = request.body.groupId || null;
      const reason = requireReason(request.body.reason);
      const by = await moderator(request, groupId);
      await ctx.db
        .transaction()
        .execute((trx) => banMember(ctx, trx, { groupId, actorApId: request.body.actor.trim(), moderator: by, reason }));
      return reply.redirect(withDone('/moderation/bans', 'moderated'), 303);
    },
  );

  app.post('/moderation/bans/:id/delete', { schema: { params: Type.Object({ id: UUID }), body: ReasonBody } }, async (request, reply) => {
    const ban = (await listBans(ctx.db)).find((b) => b.id === request.params.id);
    if (!ban) throw new AppError('not_found', 'No such ban.');
    const reason = requireReason(request.body.reason);
    const by = await moderator(request, ban.group_id);
    await ctx.db.transaction().execute((trx) => unban(ctx, trx, { banId: ban.id, moderator: by, reason }));
    return reply.redirect(withDone('/moderation/bans', 'moderated'), 303);
  });
}
