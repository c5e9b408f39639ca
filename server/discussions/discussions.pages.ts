// The discussion pages, registered together (discussions.module.ts calls this): groups, threads,
// comments under announcements and resources, member sign-in and "my space", moderation, the
// staff page that creates groups, and the live updates of open pages.
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { addAdminLink } from '../web/admin-links.ts';
import { addNavLink } from '../web/layout.ts';
import { registerCommentPages } from './comments.pages.ts';
import { registerDiscussionLive } from './discussions.live.ts';
import { registerGroupAdminPages } from './groups.admin.ts';
import { registerGroupPages } from './groups.pages.ts';
import { memberOf } from './member-auth.ts';
import { registerMemberPages } from './members.pages.ts';
import { registerModerationPages } from './moderation.pages.ts';
import { registerThreadPages } from './thread.pages.ts';
import './discussions.messages.ts';

addNavLink({ href: '/groups', label: { fr: 'Groupes', en: 'Groups' }, order: 30 });
addNavLink({ href: '/members/me', label: { fr: 'Mon espace', en: 'My space' }, order: 90 });
addAdminLink({
  href: '/moderation',
  label: { fr: 'Modération des discussions', en: 'Moderation of discussions' },
  role: 'admin',
  description: {
    fr: 'Messages en attente, signalements, exclusions et journal de modération.',
    en: 'Held messages, reports, bans and the moderation log.',
  },
});

export async function registerDiscussionPages(app: AppServer, ctx: AppContext): Promise<void> {
  registerDiscussionLive(ctx);
  // A member's pages carry their name, groups and CSRF token: no shared cache may keep them (the
  // layout does the same for staff sessions).
  app.addHook('onSend', async (request, reply) => {
    if (memberOf(request) && !reply.hasHeader('cache-control')) reply.header('cache-control', 'private, no-store');
  });
  await registerGroupPages(app, ctx);
  await registerThreadPages(app, ctx);
  await registerCommentPages(app, ctx);
  await registerMemberPages(app, ctx);
  await registerModerationPages(app, ctx);
  await registerGroupAdminPages(app, ctx);
}
