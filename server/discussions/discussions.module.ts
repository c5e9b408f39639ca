// The discussions capability: groups, posts, comments, members signed in by email link and
// moderation. REST API and pages here; federation (server/federation/discussions-*.ts) subscribes
// to the domain events. registerMemberAuth is registered on the root app (server/app.ts) so that
// every page knows the member.
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { registerDiscussionDigest } from './digest.ts';
import { registerDiscussionPages } from './discussions.pages.ts';
import { registerDiscussionsApi } from './discussions.routes.ts';
import { registerMembersApi } from './discussions-members.routes.ts';
import { registerModerationApi } from './discussions-moderation.routes.ts';
import { registerPostsApi } from './discussions-posts.routes.ts';
import { defineSignInMailQueue } from './member-signin.service.ts';
import { registerMentionNotifications } from './mentions.notify.ts';

export { registerMemberAuth } from './member-auth.ts';

export async function registerDiscussions(app: AppServer, ctx: AppContext): Promise<void> {
  defineSignInMailQueue(ctx);
  registerMentionNotifications(ctx);
  await app.register(async (scope) => registerDiscussionsApi(scope, ctx));
  await app.register(async (scope) => registerPostsApi(scope, ctx));
  await app.register(async (scope) => registerMembersApi(scope, ctx));
  await app.register(async (scope) => registerModerationApi(scope, ctx));
  await app.register(async (scope) => registerDiscussionPages(scope, ctx));
  await app.register(async (scope) => registerDiscussionDigest(scope, ctx));
}
