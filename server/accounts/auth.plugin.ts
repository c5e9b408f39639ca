// Who is asking: sets `request.user` on every request from `Authorization: Bearer <token>` or from
// the session cookie, and checks the CSRF token of state-changing requests made with a session.
// Registered on the root application (not in a child scope) so that its hooks apply to every route.
// A Bearer token that is presented but unknown, revoked or malformed is refused outright (401):
// a client with a bad token must be told, not silently treated as anonymous.
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { userForToken } from './accounts.service.ts';
import { isUnsafeMethod, rememberSessionCsrf, sessionCsrfToken, verifyCsrf } from './csrf.ts';
import { rememberContext, sendErrorPage } from './error-page.ts';
import { instanceSecret } from './secrets.ts';
import { resumeSession, SESSION_COOKIE } from './sessions.ts';

const sessionIds = new WeakMap<FastifyRequest, string>();

/** The raw id of the live session of this request, if it has one (for logout). */
export function sessionIdOf(request: FastifyRequest): string | undefined {
  return sessionIds.get(request);
}

function sameOrigin(request: FastifyRequest, ctx: AppContext): boolean {
  if (request.headers['sec-fetch-site'] === 'same-origin') return true;
  const origin = request.headers.origin;
  return typeof origin === 'string' && (origin === ctx.config.publicUrl || origin === `${request.protocol}://${request.host}`);
}

export async function registerAuth(app: AppServer, ctx: AppContext): Promise<void> {
  const secret = await instanceSecret(ctx);

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/static/')) return;
    rememberContext(request, ctx);
    const authorization = request.headers.authorization;
    if (authorization && /^bearer\b/i.test(authorization)) {
      const match = /^bearer +([\w.~+/=-]+) *$/i.exec(authorization);
      if (!match) throw new AppError('unauthorized', 'The Authorization header must be "Bearer <token>".');
      request.user = await userForToken(ctx.db, match[1]!);
      return;
    }
    const sessionId = request.cookies[SESSION_COOKIE];
    if (!sessionId) return;
    const user = await resumeSession(ctx, reply, sessionId);
    if (!user) return;
    request.user = user;
    sessionIds.set(request, sessionId);
    rememberSessionCsrf(request, secret, sessionId);
  });

  // After the body is parsed (the token may be a form field), before validation and handlers.
  app.addHook('preValidation', async (request, reply) => {
    if (!isUnsafeMethod(request.method)) return;
    const sessionId = sessionIds.get(request);
    if (!sessionId) return; // no live session: nothing a forged request could use
    // The logout button of the shared layout carries no token; a same-origin request is enough
    // there, and a forged logout could do no more than sign someone out.
    if (request.routeOptions.url === '/logout' && sameOrigin(request, ctx)) return;
    try {
      verifyCsrf(request, sessionCsrfToken(secret, sessionId));
    } catch (error) {
      if (sendErrorPage(request, reply, 403, 'error.csrf')) return reply;
      throw error;
    }
  });
}
