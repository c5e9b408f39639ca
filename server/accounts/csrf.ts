// Protection against cross-site request forgery. Every state-changing request (POST, PUT, PATCH,
// DELETE) made with a live session cookie must carry a token: the form field `_csrf`, the header
// `x-csrf-token` or, for multipart forms whose body is read later, the query parameter `_csrf`.
// Token = HMAC(instance secret, session id): nothing to store, the same in every process.
// Before a session exists (login and setup forms), a random cookie plays the session's part
// (signed double submit). Requests authenticated by a Bearer token need no token: a browser never
// adds that header to a forged request.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { hmacHex, instanceSecret, randomToken, safeEqual } from './secrets.ts';
import { cookieOptions } from './sessions.ts';

const PRE_SESSION_COOKIE = 'amap_csrf';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const tokens = new WeakMap<FastifyRequest, string>();

/** The CSRF token to put in forms of this request's page ('' when there is none). */
export function csrfToken(request: FastifyRequest): string {
  return tokens.get(request) ?? '';
}

/** The hidden form field carrying the CSRF token. */
export function csrfField(request: FastifyRequest): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${csrfToken(request)}">`;
}

export function sessionCsrfToken(secret: string, sessionId: string): string {
  return hmacHex(secret, `session:${sessionId}`);
}

/** Called by the auth hook once a session is recognised. */
export function rememberSessionCsrf(request: FastifyRequest, secret: string, sessionId: string): void {
  tokens.set(request, sessionCsrfToken(secret, sessionId));
}

function givenToken(request: FastifyRequest): string | undefined {
  const header = request.headers['x-csrf-token'];
  if (typeof header === 'string' && header) return header;
  const body = request.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object' && typeof body._csrf === 'string') return body._csrf;
  const query = request.query as Record<string, unknown> | undefined;
  if (query && typeof query === 'object' && typeof query._csrf === 'string') return query._csrf;
  return undefined;
}

export function isUnsafeMethod(method: string): boolean {
  return UNSAFE.has(method);
}

/** Throws csrf_failed unless the request carries `expected`. */
export function verifyCsrf(request: FastifyRequest, expected: string): void {
  const given = givenToken(request);
  if (!given || !safeEqual(given, expected)) {
    throw new AppError('csrf_failed', 'The form has expired or did not come from this site: reload the page and try again.');
  }
}

// Pre-session forms ---------------------------------------------------------------------------

/** Gives an anonymous visitor a pre-session cookie (if needed) so that its form carries a token. */
export async function preparePreSessionCsrf(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (tokens.has(request)) return; // a session already provides one
  let value = request.cookies[PRE_SESSION_COOKIE];
  if (!value || !/^[\w-]{20,100}$/.test(value)) {
    value = randomToken(24);
    reply.setCookie(PRE_SESSION_COOKIE, value, cookieOptions(ctx, 24 * 3600));
  }
  tokens.set(request, hmacHex(await instanceSecret(ctx), `pre:${value}`));
}

/** A preHandler for login and setup: the pre-session token must match its cookie. */
export function requirePreSessionCsrf(ctx: AppContext) {
  return async (request: FastifyRequest): Promise<void> => {
    if (tokens.has(request)) return; // signed in: the global hook already checked the session token
    const value = request.cookies[PRE_SESSION_COOKIE];
    if (!value) {
      throw new AppError('csrf_failed', 'Your browser must accept cookies from this site to sign in: reload the page and try again.');
    }
    verifyCsrf(request, hmacHex(await instanceSecret(ctx), `pre:${value}`));
  };
}
