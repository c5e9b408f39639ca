// Route guards: `preHandler: requireRole('editor')` (or 'admin'). Anonymous → 401, role too low →
// 403. An admin may do everything an editor may. A browser asking for a page while signed out is
// sent to the login page instead, and comes back after signing in.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import type { Role } from './accounts.tables.ts';
import { isBrowser, sendErrorPage } from './error-page.ts';
import '../core/request-user.ts';

const RANK: Record<Role, number> = { editor: 1, admin: 2 };

export function hasRole(user: { role: Role } | null | undefined, role: Role): boolean {
  return Boolean(user && RANK[user.role] >= RANK[role]);
}

export function requireRole(role: Role) {
  return async function guard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!request.user) {
      if (isBrowser(request)) {
        // After signing in, come back to the page asked for (a form post cannot be replayed).
        const back = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
        return reply.redirect(`/login${back}`, 303);
      }
      throw new AppError('unauthorized', 'Sign in (or send an API token: Authorization: Bearer <token>) to do this.');
    }
    if (!hasRole(request.user, role)) {
      if (sendErrorPage(request, reply, 403, 'error.forbidden')) return reply;
      throw new AppError('forbidden', role === 'admin' ? 'Only an administrator may do this.' : 'Your account may not do this.');
    }
  };
}
