// Who takes part in discussions on this request: a member signed in by an emailed link (the
// `amap_member` cookie, a random 32-byte id stored hashed, like staff sessions), or a staff user
// (session or API token), whose member identity is the discussion_members row linked to them.
// Registered on the root application right after the staff auth hook, so that every page and
// route (also comments under announcements and resources) can call the synchronous `memberOf`.
// State-changing requests made with a member cookie carry a CSRF token, as staff forms do: the
// token is put where `csrfField(request)` finds it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sessionIdOf } from '../accounts/auth.plugin.ts';
import { isUnsafeMethod, rememberSessionCsrf, sessionCsrfToken, verifyCsrf } from '../accounts/csrf.ts';
import { sendErrorPage } from '../accounts/error-page.ts';
import { instanceSecret, randomToken, sha256Hex } from '../accounts/secrets.ts';
import { cookieOptions } from '../accounts/sessions.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { Executor } from '../core/events.ts';
import type { AppServer } from '../core/http.ts';
import type { RequestUser } from '../core/request-user.ts';
import {
  createMember,
  deleteExpiredMemberSessions,
  deleteMemberSession,
  findMemberByEmail,
  findMemberBySession,
  findMemberByUserId,
  insertMemberSession,
  linkMemberToUser,
  type MemberRow,
} from './members.repository.ts';

export const MEMBER_COOKIE = 'amap_member';
export const MEMBER_SESSION_DAYS = 30;
const MEMBER_SESSION_MS = MEMBER_SESSION_DAYS * 24 * 3600 * 1000;

interface MemberState {
  member: MemberRow;
  /** The raw id of the member session (absent for staff users). */
  sessionId?: string;
}

const members = new WeakMap<FastifyRequest, MemberState>();

/** The member taking part on this request (a signed-in member, or a staff user who has taken part). */
export function memberOf(request: FastifyRequest): MemberRow | undefined {
  return members.get(request)?.member;
}

/** True when the request is made with a member session (not a staff account). */
export function memberSessionIdOf(request: FastifyRequest): string | undefined {
  return members.get(request)?.sessionId;
}

// The member session's CSRF token is the staff one computed over a prefixed id: a member id can
// never equal a staff session id (base64url has no ':').
function csrfKey(sessionId: string): string {
  return `member:${sessionId}`;
}

export async function registerMemberAuth(app: AppServer, ctx: AppContext): Promise<void> {
  const secret = await instanceSecret(ctx);

  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/static/')) return;
    if (request.user) {
      const member = await findMemberByUserId(ctx.db, request.user.id);
      if (member) members.set(request, { member });
      return;
    }
    const sessionId = request.cookies[MEMBER_COOKIE];
    if (!sessionId || sessionId.length > 100) return;
    const member = await findMemberBySession(ctx.db, sha256Hex(sessionId), new Date());
    if (!member) return;
    members.set(request, { member, sessionId });
    rememberSessionCsrf(request, secret, csrfKey(sessionId));
  });

  app.addHook('preValidation', async (request, reply) => {
    if (!isUnsafeMethod(request.method)) return;
    const state = members.get(request);
    // A staff session is checked by the staff hook; an API token needs no CSRF token.
    if (!state?.sessionId || sessionIdOf(request) || request.user) return;
    try {
      verifyCsrf(request, sessionCsrfToken(secret, csrfKey(state.sessionId)));
    } catch (error) {
      if (sendErrorPage(request, reply, 403, 'error.csrf')) return reply;
      throw error;
    }
  });
}

/** The CSRF token a member session's forms and API calls must carry. */
export async function memberCsrfToken(ctx: AppContext, sessionId: string): Promise<string> {
  return sessionCsrfToken(await instanceSecret(ctx), csrfKey(sessionId));
}

/** Opens a member session (after a confirmed sign-in link) and sets its cookie; returns its id. */
export async function startMemberSession(ctx: AppContext, reply: FastifyReply, memberId: string): Promise<string> {
  const id = randomToken(32);
  const now = new Date();
  await insertMemberSession(ctx.db, { idHash: sha256Hex(id), memberId, expiresAt: new Date(now.getTime() + MEMBER_SESSION_MS) });
  reply.setCookie(MEMBER_COOKIE, id, cookieOptions(ctx, MEMBER_SESSION_MS / 1000));
  await deleteExpiredMemberSessions(ctx.db, now);
  return id;
}

export async function endMemberSession(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const id = members.get(request)?.sessionId ?? request.cookies[MEMBER_COOKIE];
  if (id) await deleteMemberSession(ctx.db, sha256Hex(id));
  reply.clearCookie(MEMBER_COOKIE, { path: '/' });
}

/**
 * The member identity of a staff user, created on their first participation (a member who
 * signed in by link with the same address becomes linked to the account).
 */
export async function ensureStaffMember(ctx: AppContext, db: Executor, user: RequestUser): Promise<MemberRow> {
  const linked = await findMemberByUserId(db, user.id);
  if (linked) return linked;
  const sameEmail = await findMemberByEmail(db, user.email);
  if (sameEmail && sameEmail.user_id === null) {
    await linkMemberToUser(db, sameEmail.id, user.id);
    return { ...sameEmail, user_id: user.id };
  }
  return createMember(db, {
    email: sameEmail ? `${user.id}@staff.invalid` : user.email,
    displayName: user.displayName,
    userId: user.id,
    instanceHandle: ctx.config.instanceHandle,
  });
}

/** The member on this request, creating a staff user's identity if needed; 401 when nobody. */
export async function requireMember(ctx: AppContext, request: FastifyRequest, db: Executor = ctx.db): Promise<MemberRow> {
  const known = memberOf(request);
  if (known) return known;
  if (request.user) {
    const member = await ensureStaffMember(ctx, db, request.user);
    members.set(request, { member });
    return member;
  }
  throw new AppError('unauthorized', 'Sign in (an emailed link, or your staff account) to take part.');
}
