// The groups pages: /groups (local groups, and remote groups people here joined), a group's page
// (threads, newest activity first, paged; join and leave; a compose form for members), and the
// local page of a remote group (/discussions/groups/:id). A members-only group shows outsiders its
// name and summary only. Forms post and redirect (303) with a status line; no JavaScript needed.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csrfField } from '../accounts/csrf.ts';
import { normalizeTag } from '../announcements/announcements.domain.ts';
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { PAGE_RESPONSE, pageContext, sendPage } from '../web/layout.ts';
import { digestFollowForm } from './digest.ts';
import { doneMessage, groupAccess, groupPath, sendNotFound, type Viewer, viewerOf, withDone } from './discussions.access.ts';
import { formFailure } from './discussions.forms.ts';
import { liveTopic } from './discussions.live.ts';
import { countText, liveAttributes, threadSummary, timeTag } from './discussions.views.ts';
import { findGroupById, findLocalGroupByUsername, type GroupRow, listGroups } from './groups.repository.ts';
import { requireMember } from './member-auth.ts';
import { countMemberships } from './memberships.repository.ts';
import { joinGroup, leaveGroup } from './memberships.service.ts';
import { countThread, listGroupThreads } from './posts.repository.ts';
import { createLocalPost } from './posts.service.ts';
import { listPublicPostsByTag } from './tags.repository.ts';
import { pageOfPost } from './thread.pages.ts';

const PAGE_SIZE = 20;
const USERNAME = Type.String({ pattern: '^[a-z0-9_]{1,30}$' });
const UUID = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const GroupQuery = Type.Object({
  before: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
  done: Type.Optional(Type.String({ maxLength: 20 })),
});
const ComposeBody = Type.Object({
  _csrf: Type.Optional(Type.String()),
  title: Type.String({ maxLength: 200 }),
  body: Type.String({ maxLength: 20_000 }),
});
const CsrfBody = Type.Object({ _csrf: Type.Optional(Type.String()) });

function groupCard(group: GroupRow, locale: Viewer['locale']): SafeHtml {
  return html`<li><h3><a href="${groupPath(group)}">${group.name}</a></h3>
<p class="dp-meta">${group.handle ? html`<span>@${group.handle.replace(/^@/, '')}</span> · ` : ''}<span class="dg-badge">${
    group.visibility === 'members' ? t(locale, 'dg.membersOnly') : t(locale, 'dg.public')
  }</span></p>
${group.summary ? html`<p>${group.summary}</p>` : ''}</li>`;
}

async function groupPage(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  group: GroupRow,
  query: { before?: string; done?: string },
) {
  const viewer = viewerOf(request, ctx);
  const { locale } = viewer;
  const access = await groupAccess(ctx, group, viewer);
  const path = groupPath(group);
  const before = query.before ? new Date(query.before) : undefined;
  const [threads, members] = await Promise.all([
    access.read ? listGroupThreads(ctx.db, group.id, { limit: PAGE_SIZE + 1, ...(before ? { before } : {}) }) : Promise.resolve([]),
    countMemberships(ctx.db, group.id),
  ]);
  const shown = threads.slice(0, PAGE_SIZE);
  const counts = await Promise.all(shown.map((p) => countThread(ctx.db, p.id)));
  const csrf = csrfField(request);

  let membership: SafeHtml;
  if (!viewer.signedIn) {
    membership = html`<p><a class="button" href="/members/sign-in?next=${encodeURIComponent(path)}">${t(locale, 'dg.signInToJoin')}</a></p>`;
  } else if (access.membership?.status === 'banned') {
    membership = html`<p class="notice">${t(locale, 'dg.banned')}</p>`;
  } else if (access.membership) {
    const pending = access.membership.status === 'pending';
    membership = html`<p>${pending ? t(locale, 'dg.pending') : access.moderator ? t(locale, 'dg.isModerator') : t(locale, 'dg.isMember')}</p>
<form method="post" action="${path}/leave">${csrf}<button type="submit">${pending ? t(locale, 'dg.cancel') : t(locale, 'dg.leave')}</button></form>`;
  } else {
    membership = html`<form method="post" action="${path}/join">${csrf}<button type="submit">${t(locale, 'dg.join')}</button></form>${
      group.join_policy === 'approval' ? html`<p class="muted">${t(locale, 'dg.approval')}</p>` : ''
    }`;
  }
  if (access.moderator) membership = html`${membership}<p><a href="/moderation">${t(locale, 'dg.moderate')}</a></p>`;

  const compose = access.member
    ? html`<section aria-labelledby="compose-title">
<h2 id="compose-title">${t(locale, 'dg.compose')}</h2>
<form method="post" action="${path}/posts">${csrf}
<label for="f-title">${t(locale, 'dg.composeTitle')}</label>
<input id="f-title" name="title" maxlength="200" required>
<label for="f-body">${t(locale, 'dg.composeBody')}</label>
<p class="muted" id="f-body-hint">${t(locale, 'dg.composeHint')}</p>
<textarea id="f-body" name="body" rows="6" maxlength="20000" required aria-describedby="f-body-hint"></textarea>
<button type="submit">${t(locale, 'dg.composeSubmit')}</button>
</form></section>`
    : '';

  const older = threads.length > PAGE_SIZE ? shown[shown.length - 1] : undefined;
  const pager =
    before || older
      ? html`<nav class="dp-pager" aria-label="Pagination"><ul>
${before ? html`<li><a href="${path}" rel="prev">${t(locale, 'dg.newer')}</a></li>` : ''}
${older ? html`<li><a href="${path}?before=${encodeURIComponent(new Date(older.last_activity_at).toISOString())}" rel="next">${t(locale, 'dg.older')}</a></li>` : ''}
</ul></nav>`
      : '';

  const threadsSection = access.read
    ? html`<section aria-labelledby="threads-title"${before ? '' : liveAttributes(locale, liveTopic({ kind: 'group', id: group.id }), 'group')}>
<h2 id="threads-title">${t(locale, 'dg.threads')}</h2>
<ol class="dg-threads" data-dp-list aria-live="polite" aria-relevant="additions">${shown.map((p, i) => threadSummary(p, locale, Math.max(0, (counts[i] ?? 1) - 1)))}</ol>
${shown.length === 0 ? html`<p class="muted dp-empty">${t(locale, 'dg.noThreads')}</p>` : ''}
${pager}
</section>`
    : html`<p class="notice">${t(locale, 'dg.closed')}</p>`;

  const handle = group.handle.startsWith('@') ? group.handle : `@${group.handle}`;
  const body = html`${doneMessage(locale, query.done)}
<h1>${group.name}</h1>
${group.summary ? html`<p>${group.summary}</p>` : ''}
<p class="dp-meta"><span class="dg-badge">${group.visibility === 'members' ? t(locale, 'dg.membersOnly') : t(locale, 'dg.public')}</span> · ${countText(locale, 'dg.members', members)}</p>
<p class="muted">${t(locale, 'dg.handle', { handle })}</p>
${group.origin === 'remote' ? html`<p><a href="${group.ap_id}" rel="nofollow noopener">${t(locale, 'dg.original')}</a></p>` : ''}
${membership}
${compose}
${threadsSection}
${await digestFollowForm(request, ctx, group)}`;
  return sendPage(reply, request, ctx, {
    title: group.name,
    description: group.summary || group.name,
    head: html`<link rel="stylesheet" href="/static/discussions.css">`,
    scripts: access.read && !before ? ['discussions.js'] : [],
    body,
  });
}

/** The public posts of a hashtag (where a #tag in a post links to). */
async function tagPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, tag: string) {
  const { locale } = pageContext(request, ctx);
  const posts = await listPublicPostsByTag(ctx.db, tag, 50);
  const body = html`<h1>${t(locale, 'dg.tagTitle', { tag })}</h1>
${
  posts.length === 0
    ? html`<p class="muted">${t(locale, 'dg.tagNone')}</p>`
    : html`<ul class="dg-list">${posts.map((p) => {
        const at = pageOfPost(p);
        return html`<li><p class="dp-meta"><span class="dp-author">${p.author_name}</span> · <a href="${at.path}#${at.anchor}">${timeTag(p.published_at, locale)}</a></p>
<p>${p.content_text.slice(0, 300)}</p></li>`;
      })}</ul>`
}
<p><a href="/groups">${t(locale, 'dg.title')}</a></p>`;
  return sendPage(reply, request, ctx, {
    title: t(locale, 'dg.tagTitle', { tag }),
    head: html`<link rel="stylesheet" href="/static/discussions.css">`,
    body,
  });
}

export async function registerGroupPages(app: AppServer, ctx: AppContext): Promise<void> {
  app.get(
    '/groups',
    {
      schema: {
        querystring: Type.Object({
          done: Type.Optional(Type.String({ maxLength: 20 })),
          tag: Type.Optional(Type.String({ maxLength: 60 })),
        }),
        response: PAGE_RESPONSE,
      },
    },
    async (request, reply) => {
      const { locale } = pageContext(request, ctx);
      const tag = request.query.tag ? normalizeTag(request.query.tag) : null;
      if (tag) return tagPage(ctx, request, reply, tag);
      const groups = await listGroups(ctx.db, { includeRemote: true, limit: 500 });
      const local = groups.filter((g) => g.origin === 'local');
      const remote = groups.filter((g) => g.origin === 'remote');
      const body = html`${doneMessage(locale, request.query.done)}
<h1>${t(locale, 'dg.title')}</h1>
<p>${t(locale, 'dg.intro')}</p>
<section aria-labelledby="dg-local"><h2 id="dg-local">${t(locale, 'dg.local')}</h2>
${local.length ? html`<ul class="dg-list">${local.map((g) => groupCard(g, locale))}</ul>` : html`<p class="muted">${t(locale, 'dg.none')}</p>`}
</section>
${remote.length ? html`<section aria-labelledby="dg-remote"><h2 id="dg-remote">${t(locale, 'dg.remote')}</h2><ul class="dg-list">${remote.map((g) => groupCard(g, locale))}</ul></section>` : ''}`;
      return sendPage(reply, request, ctx, {
        title: t(locale, 'dg.title'),
        description: t(locale, 'dg.intro'),
        head: html`<link rel="stylesheet" href="/static/discussions.css">`,
        body,
      });
    },
  );

  // A local group by its username, or a remote group by its local id: the same page and forms.
  const byUsername = (request: FastifyRequest) => findLocalGroupByUsername(ctx.db, (request.params as { username: string }).username);
  const byId = (request: FastifyRequest) => findGroupById(ctx.db, (request.params as { id: string }).id);
  for (const [prefix, params, find] of [
    ['/groups/:username', Type.Object({ username: USERNAME }), byUsername],
    ['/discussions/groups/:id', Type.Object({ id: UUID }), byId],
  ] as const) {
    app.get(prefix, { schema: { params, querystring: GroupQuery, response: PAGE_RESPONSE } }, async (request, reply) => {
      const group = await find(request);
      if (!group) return sendNotFound(request, reply, ctx);
      // A local group reached by its id: its page has one address, by username.
      if (prefix !== '/groups/:username' && group.origin === 'local') return reply.redirect(groupPath(group), 301);
      return groupPage(ctx, request, reply, group, request.query);
    });

    app.post(`${prefix}/join`, { schema: { params, body: CsrfBody } }, async (request, reply) => {
      const group = await find(request);
      if (!group) return sendNotFound(request, reply, ctx);
      const member = await requireMember(ctx, request);
      const status = await joinGroup(ctx, { member, groupId: group.id });
      return reply.redirect(withDone(groupPath(group), status === 'accepted' ? 'joined' : 'requested'), 303);
    });

    app.post(`${prefix}/leave`, { schema: { params, body: CsrfBody } }, async (request, reply) => {
      const group = await find(request);
      if (!group) return sendNotFound(request, reply, ctx);
      const member = await requireMember(ctx, request);
      await leaveGroup(ctx, { member, groupId: group.id });
      return reply.redirect(withDone(groupPath(group), 'left'), 303);
    });

    app.post(`${prefix}/posts`, { schema: { params, body: ComposeBody } }, async (request, reply) => {
      const group = await find(request);
      if (!group) return sendNotFound(request, reply, ctx);
      const path = groupPath(group);
      try {
        const post = await ctx.db.transaction().execute(async (trx) => {
          const member = await requireMember(ctx, request, trx);
          return createLocalPost(ctx, trx, { member, groupId: group.id, title: request.body.title, markdown: request.body.body });
        });
        if (post.status === 'held') return reply.redirect(withDone(path, 'held'), 303);
        return reply.redirect(withDone(`/discussions/posts/${post.id}`, 'posted'), 303);
      } catch (error) {
        return formFailure(ctx, request, reply, error, {
          action: `${path}/posts`,
          back: path,
          fields: { title: request.body.title, body: request.body.body },
        });
      }
    });
  }
}
