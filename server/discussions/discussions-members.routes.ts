// The members' REST API: sign in by emailed link (ask for a link, then confirm it with the token
// it carries), sign out, their profile, their data as JSON, and erasure.
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { localeOf } from '../web/i18n.ts';
import { errors, MemberSchema } from './discussions.schemas.ts';
import { endMemberSession, memberCsrfToken, memberOf, memberSessionIdOf, requireMember, startMemberSession } from './member-auth.ts';
import { findMemberById, type MemberRow, updateMemberProfile } from './members.repository.ts';
import { confirmSignIn, eraseMemberData, exportMemberData, requestSignInLink } from './members.service.ts';
import { personApId } from './posts.service.ts';

const tags = ['discussions'];
const security = [{ bearer: [] }];

function memberJson(ctx: AppContext, m: MemberRow) {
  return {
    id: m.id,
    displayName: m.display_name,
    handle: `${m.username}@${new URL(ctx.config.publicUrl).host}`,
    actor: personApId(ctx, m.username),
    locale: m.locale,
    staff: m.user_id !== null,
  };
}

// A sign-in request or confirmation sent as a form by another site would sign someone in (or
// spam them): these JSON endpoints accept JSON only, which a cross-site form cannot send.
function requireJson(contentType: string | undefined): void {
  if (!contentType?.toLowerCase().startsWith('application/json')) {
    throw new AppError('unsupported_media_type', 'Send JSON (Content-Type: application/json).');
  }
}

/** The member of this request, without creating a staff user's identity (a GET changes nothing). */
function knownMember(request: FastifyRequest): MemberRow {
  const member = memberOf(request);
  if (member) return member;
  if (request.user) throw new AppError('not_found', 'You have not taken part in discussions yet.');
  throw new AppError('unauthorized', 'Sign in (an emailed link, or your staff account) to see this.');
}

export async function registerMembersApi(app: AppServer, ctx: AppContext): Promise<void> {
  app.post(
    '/api/v1/discussions/sign-in',
    {
      schema: {
        tags,
        summary: 'Send a sign-in link to an email address (valid 30 minutes, usable once)',
        description: 'Always 202, whether or not the address is a member yet. 429 when too many links were asked for.',
        body: Type.Object({
          email: Type.String({ maxLength: 320 }),
          locale: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])),
          next: Type.Optional(Type.String({ maxLength: 500 })),
        }),
        response: { 202: Type.Object({ sent: Type.Boolean() }), ...errors },
      },
    },
    async (request, reply) => {
      requireJson(request.headers['content-type']);
      const locale = request.body.locale ?? localeOf(request, ctx.config.defaultLocale);
      await requestSignInLink(ctx, {
        email: request.body.email,
        locale,
        client: request.ip,
        ...(request.body.next ? { next: request.body.next } : {}),
      });
      return reply.code(202).send({ sent: true });
    },
  );

  app.post(
    '/api/v1/discussions/sign-in/confirm',
    {
      schema: {
        tags,
        summary: 'Use a sign-in link: opens a member session (cookie amap_member)',
        description: 'Answers the CSRF token that state-changing requests of this session send in the x-csrf-token header.',
        body: Type.Object({
          token: Type.String({ pattern: '^[A-Za-z0-9_-]{20,100}$' }),
          displayName: Type.Optional(Type.String({ maxLength: 100 })),
        }),
        response: { 200: Type.Object({ member: MemberSchema, csrfToken: Type.String() }), ...errors },
      },
    },
    async (request, reply) => {
      requireJson(request.headers['content-type']);
      const member = await confirmSignIn(ctx, request.body.token, {
        ...(request.body.displayName ? { displayName: request.body.displayName } : {}),
        locale: localeOf(request, ctx.config.defaultLocale),
      });
      if (!member) throw new AppError('gone', 'This sign-in link is no longer valid (already used or expired): ask for a new one.');
      const sessionId = await startMemberSession(ctx, reply, member.id);
      return { member: memberJson(ctx, member), csrfToken: await memberCsrfToken(ctx, sessionId) };
    },
  );

  app.post(
    '/api/v1/discussions/sign-out',
    { schema: { tags, summary: 'End the member session', response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await endMemberSession(ctx, request, reply);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/discussions/me',
    { schema: { tags, summary: 'My member profile', security, response: { 200: MemberSchema, ...errors } } },
    async (request) => memberJson(ctx, knownMember(request)),
  );

  app.patch(
    '/api/v1/discussions/me',
    {
      schema: {
        tags,
        summary: 'Change my display name or language',
        security,
        body: Type.Object({
          displayName: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
          locale: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])),
        }),
        response: { 200: MemberSchema, ...errors },
      },
    },
    async (request) => {
      const member = await requireMember(ctx, request);
      await updateMemberProfile(ctx.db, member.id, {
        ...(request.body.displayName !== undefined ? { displayName: request.body.displayName } : {}),
        ...(request.body.locale ? { locale: request.body.locale } : {}),
      });
      return memberJson(ctx, (await findMemberById(ctx.db, member.id)) as MemberRow);
    },
  );

  app.get(
    '/api/v1/discussions/me/export',
    {
      schema: {
        tags,
        summary: 'All my data as JSON: profile, memberships, posts',
        security,
        response: { 200: Type.Object({}, { additionalProperties: true }), ...errors },
      },
    },
    async (request, reply) => {
      const member = knownMember(request);
      reply.header('content-disposition', 'attachment; filename="mes-discussions.json"');
      return exportMemberData(ctx, member);
    },
  );

  app.delete(
    '/api/v1/discussions/me',
    {
      schema: {
        tags,
        summary: 'Erase me: my profile, sessions and memberships; my posts are taken down everywhere',
        security,
        response: { 200: Type.Object({ removedPosts: Type.Integer() }), ...errors },
      },
    },
    async (request, reply) => {
      const member = memberOf(request);
      if (!member || !memberSessionIdOf(request)) {
        // Staff erase their member identity from a member session only: an API token could
        // otherwise erase by mistake what a staff account wrote.
        if (request.user) throw new AppError('forbidden', 'Staff accounts are removed by an administrator.');
        throw new AppError('unauthorized', 'Sign in to erase your data.');
      }
      const { posts } = await eraseMemberData(ctx, member);
      await endMemberSession(ctx, request, reply);
      return { removedPosts: posts };
    },
  );
}
