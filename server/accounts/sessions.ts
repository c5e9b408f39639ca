// Web sessions: a random 32-byte id in an HttpOnly cookie, stored hashed, valid 30 days after the
// last visit (sliding). An expired or unknown session is simply no session: the visitor is anonymous.
import type { FastifyReply } from 'fastify';
import type { AppContext } from '../core/context.ts';
import type { RequestUser } from '../core/request-user.ts';
import { deleteExpiredSessions, deleteSession, findLiveSession, insertSession, touchSession } from './accounts.repository.ts';
import { randomToken, sha256Hex } from './secrets.ts';

export const SESSION_COOKIE = 'amap_session';
export const SESSION_DAYS = 30;
const SESSION_MS = SESSION_DAYS * 24 * 3600 * 1000;
// Extending the expiry on every request would write on every page view; once an hour is enough.
const TOUCH_EVERY_MS = 3600 * 1000;

export function cookieOptions(ctx: AppContext, maxAgeSeconds: number) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: ctx.config.publicUrl.startsWith('https:'),
    maxAge: maxAgeSeconds,
  };
}

export async function startSession(ctx: AppContext, reply: FastifyReply, userId: string): Promise<string> {
  const id = randomToken(32);
  const now = new Date();
  await insertSession(ctx.db, { idHash: sha256Hex(id), userId, expiresAt: new Date(now.getTime() + SESSION_MS) });
  reply.setCookie(SESSION_COOKIE, id, cookieOptions(ctx, SESSION_MS / 1000));
  // Housekeeping at login time: expired sessions are useless rows.
  await deleteExpiredSessions(ctx.db, now);
  return id;
}

/** The user of a live session, extending it when it was last seen over an hour ago. */
export async function resumeSession(ctx: AppContext, reply: FastifyReply, id: string): Promise<RequestUser | null> {
  if (id.length > 100) return null;
  const now = new Date();
  const idHash = sha256Hex(id);
  const session = await findLiveSession(ctx.db, idHash, now);
  if (!session) return null;
  if (now.getTime() - session.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await touchSession(ctx.db, idHash, now, new Date(now.getTime() + SESSION_MS));
    reply.setCookie(SESSION_COOKIE, id, cookieOptions(ctx, SESSION_MS / 1000));
  }
  return { id: session.userId, email: session.email, displayName: session.displayName, role: session.role, via: 'session' };
}

export async function endSession(ctx: AppContext, reply: FastifyReply, id: string | undefined): Promise<void> {
  if (id) await deleteSession(ctx.db, sha256Hex(id));
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}
