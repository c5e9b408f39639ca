// Moderation pages for administrators (everything) and groups' moderators (their groups):
// membership requests to accept or refuse, held posts to approve or remove, open reports to
// close, bans, and the log. Every action (moderation.actions.ts) asks for a reason, which the log
// keeps with who acted. Plain forms (POST, then 303), no JavaScript needed.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csrfField } from '../accounts/csrf.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { html, raw, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { PAGE_RESPONSE, sendPage } from '../web/layout.ts';
import { doneMessage, type Viewer, viewerOf } from './discussions.access.ts';
import { timeTag } from './discussions.views.ts';
import { findGroupById, type GroupRow, listGroups } from './groups.repository.ts';
import { listMemberships, listMembershipsOfMember } from './memberships.repository.ts';
import { registerModerationActions } from './moderation.actions.ts';
import { listBans, listModerationLog, listReports } from './moderation.repository.ts';
import { findPostById, listHeldPosts, type PostRow } from './posts.repository.ts';
import { pageOfPost } from './thread.pages.ts';

const UUID = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const _Reason = Type.String({ maxLength: 2000 });
const Done = Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })) });

/** The groups this viewer moderates: every group for an administrator (null), else their own. */
async function moderatedGroups(ctx: AppContext, viewer: Viewer): Promise<GroupRow[] | null> {
  if (viewer.admin) return null;
  if (!viewer.member) return [];
  const memberships = await listMembershipsOfMember(ctx.db, viewer.member.id);
  const ids = memberships.filter((m) => m.role === 'moderator' && m.status === 'accepted').map((m) => m.group_id);
  const groups = await Promise.all(ids.map((id) => findGroupById(ctx.db, id)));
  return groups.filter((g): g is GroupRow => g !== undefined);
}

/** Sends the sign-in or "not for you" page when the viewer moderates nothing; else their groups. */
async function moderatorOrRefuse(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<{ viewer: Viewer; groups: GroupRow[] | null } | undefined> {
  const viewer = viewerOf(request, ctx);
  if (!viewer.signedIn) {
    reply.redirect(`/members/sign-in?next=${encodeURIComponent(request.url)}`, 303);
    return undefined;
  }
  const groups = await moderatedGroups(ctx, viewer);
  if (groups && groups.length === 0) {
    sendPage(reply, request, ctx, {
      title: t(viewer.locale, 'error.title'),
      status: 403,
      body: html`<h1>${t(viewer.locale, 'mod.title')}</h1><p role="alert">${t(viewer.locale, 'mod.forbidden')}</p>`,
    });
    return undefined;
  }
  return { viewer, groups };
}

const inScope = (groups: GroupRow[] | null, groupId: string | null) =>
  groups === null || (groupId !== null && groups.some((g) => g.id === groupId));

function reasonField(id: string, locale: Viewer['locale']): SafeHtml {
  return html`<label for="${id}">${t(locale, 'mod.reason')}</label><input id="${id}" name="reason" required maxlength="2000">`;
}

function postBlock(post: PostRow, locale: Viewer['locale']): SafeHtml {
  const at = pageOfPost(post);
  return html`<div class="mod-quote">
<p class="dp-meta"><strong>${post.author_name}</strong> <span class="muted">${post.author_handle}</span> · ${timeTag(post.published_at, locale)} · <a href="${at.path}#${at.anchor}">${t(locale, 'dp.permalink')}</a></p>
${post.title ? html`<p><strong>${post.title}</strong></p>` : ''}
<div class="dp-content">${raw(post.content_html)}</div>
<p class="muted">${t(locale, 'mod.status', { status: t(locale, `mod.status.${post.status}`) })}</p>
</div>`;
}

function postActions(post: PostRow, request: FastifyRequest, locale: Viewer['locale']): SafeHtml {
  const csrf = csrfField(request);
  return html`${
    post.status === 'held'
      ? html`<form method="post" action="/moderation/posts/${post.id}/approve" class="mod-action">${csrf}${reasonField(`ap-${post.id}`, locale)}<button type="submit">${t(locale, 'mod.approve')}</button></form>`
      : ''
  }${
    post.status !== 'removed'
      ? html`<form method="post" action="/moderation/posts/${post.id}/remove" class="mod-action">${csrf}${reasonField(`rm-${post.id}`, locale)}<button type="submit">${t(locale, 'mod.remove')}</button></form>`
      : ''
  }`;
}

function modNav(locale: Viewer['locale']): SafeHtml {
  return html`<nav aria-label="${t(locale, 'mod.nav')}"><ul class="dg-actions">
<li><a href="/moderation">${t(locale, 'mod.held')} · ${t(locale, 'mod.reports')}</a></li>
<li><a href="/moderation/bans">${t(locale, 'mod.bans')}</a></li>
<li><a href="/moderation/log">${t(locale, 'mod.log')}</a></li>
</ul></nav>`;
}

const HEAD = html`<link rel="stylesheet" href="/static/discussions.css">`;

export async function registerModerationPages(app: AppServer, ctx: AppContext): Promise<void> {
  app.get('/moderation', { schema: { querystring: Done, response: PAGE_RESPONSE } }, async (request, reply) => {
    const allowed = await moderatorOrRefuse(ctx, request, reply);
    if (!allowed) return reply;
    const { viewer, groups } = allowed;
    const { locale } = viewer;
    const held = (
      groups === null
        ? await listHeldPosts(ctx.db, { limit: 100, offset: 0 })
        : (await Promise.all(groups.map((g) => listHeldPosts(ctx.db, { groupId: g.id, limit: 100, offset: 0 })))).flat()
    ).filter((p) => inScope(groups, p.group_id));
    const reports = [];
    for (const report of await listReports(ctx.db, { status: 'open', limit: 100, offset: 0 })) {
      const post = report.post_id ? await findPostById(ctx.db, report.post_id) : undefined;
      if (inScope(groups, post?.group_id ?? null)) reports.push({ report, post });
    }
    const scope = groups ?? (await listGroups(ctx.db, { includeRemote: false }));
    const pending = (
      await Promise.all(
        scope.map(async (group) =>
          (await listMemberships(ctx.db, group.id, { status: 'pending', limit: 100, offset: 0 })).map((m) => ({ group, m })),
        ),
      )
    ).flat();
    const csrf = csrfField(request);
    const body = html`${doneMessage(locale, request.query.done)}
<h1>${t(locale, 'mod.title')}</h1>
<p>${t(locale, 'mod.intro')}</p>
${modNav(locale)}
<section aria-labelledby="mod-pending"><h2 id="mod-pending">${t(locale, 'mod.pending')}</h2>
${
  pending.length === 0
    ? html`<p class="muted">${t(locale, 'mod.noPending')}</p>`
    : html`<ul class="dg-list">${pending.map(
        ({
          group,
          m,
        }) => html`<li><p><strong>${m.name || m.handle || m.actor_ap_id}</strong> <span class="muted">${m.handle ?? m.actor_ap_id}</span> · ${group.name} · ${timeTag(m.created_at, locale)}</p>
<form method="post" action="/moderation/memberships" class="mod-action">${csrf}<input type="hidden" name="groupId" value="${group.id}"><input type="hidden" name="actor" value="${m.actor_ap_id}">
${reasonField(`ms-${m.id}`, locale)}
<button type="submit" name="decision" value="accept">${t(locale, 'mod.accept')}</button> <button type="submit" name="decision" value="refuse">${t(locale, 'mod.refuse')}</button></form></li>`,
      )}</ul>`
}
</section>
<section aria-labelledby="mod-held"><h2 id="mod-held">${t(locale, 'mod.held')}</h2>
${held.length === 0 ? html`<p class="muted">${t(locale, 'mod.noHeld')}</p>` : html`<ul class="dg-list">${held.map((p) => html`<li>${postBlock(p, locale)}${postActions(p, request, locale)}</li>`)}</ul>`}
</section>
<section aria-labelledby="mod-reports"><h2 id="mod-reports">${t(locale, 'mod.reports')}</h2>
${
  reports.length === 0
    ? html`<p class="muted">${t(locale, 'mod.noReports')}</p>`
    : html`<ul class="dg-list">${reports.map(
        ({ report, post }) => html`<li>
<p>${t(locale, 'mod.reportedBy', { who: report.reporter })} · ${timeTag(report.created_at, locale)}</p>
<blockquote>${report.reason}</blockquote>
${post ? html`${postBlock(post, locale)}${postActions(post, request, locale)}` : html`<p class="muted">${report.post_ap_id}</p>`}
<form method="post" action="/moderation/reports/${report.id}/close" class="mod-action">${csrf}${reasonField(`rp-${report.id}`, locale)}
<button type="submit" name="status" value="resolved">${t(locale, 'mod.resolve')}</button> <button type="submit" name="status" value="dismissed">${t(locale, 'mod.dismiss')}</button></form>
</li>`,
      )}</ul>`
}
</section>`;
    return sendPage(reply, request, ctx, { title: t(locale, 'mod.title'), head: HEAD, body });
  });

  app.get('/moderation/posts/:id', { schema: { params: Type.Object({ id: UUID }), response: PAGE_RESPONSE } }, async (request, reply) => {
    const allowed = await moderatorOrRefuse(ctx, request, reply);
    if (!allowed) return reply;
    const { locale } = allowed.viewer;
    const post = await findPostById(ctx.db, request.params.id);
    if (!post || !inScope(allowed.groups, post.group_id)) throw new AppError('not_found', 'No such message to moderate.');
    const body = html`<h1>${t(locale, 'mod.postTitle')}</h1>${modNav(locale)}${postBlock(post, locale)}${postActions(post, request, locale)}`;
    return sendPage(reply, request, ctx, { title: t(locale, 'mod.postTitle'), head: HEAD, body });
  });

  app.get('/moderation/bans', { schema: { querystring: Done, response: PAGE_RESPONSE } }, async (request, reply) => {
    const allowed = await moderatorOrRefuse(ctx, request, reply);
    if (!allowed) return reply;
    const { viewer, groups } = allowed;
    const { locale } = viewer;
    const all = groups ?? (await listGroups(ctx.db, { includeRemote: false }));
    const bans = (await listBans(ctx.db)).filter((b) => inScope(groups, b.group_id));
    const nameOf = (id: string | null) => (id ? (all.find((g) => g.id === id)?.name ?? id) : t(locale, 'mod.allGroups'));
    const csrf = csrfField(request);
    const body = html`${doneMessage(locale, request.query.done)}
<h1>${t(locale, 'mod.bans')}</h1>
${modNav(locale)}
${
  bans.length === 0
    ? html`<p class="muted">${t(locale, 'mod.noBans')}</p>`
    : html`<ul class="dg-list">${bans.map(
        (
          b,
        ) => html`<li><p><strong>${b.value}</strong> · ${nameOf(b.group_id)} · ${timeTag(b.created_at, locale)}</p><p class="muted">${b.reason}</p>
<form method="post" action="/moderation/bans/${b.id}/delete" class="mod-action">${csrf}${reasonField(`ub-${b.id}`, locale)}<button type="submit">${t(locale, 'mod.unban')}</button></form></li>`,
      )}</ul>`
}
<h2>${t(locale, 'mod.ban')}</h2>
<form method="post" action="/moderation/bans">${csrf}
<label for="ban-actor">${t(locale, 'mod.banWho')}</label><input id="ban-actor" name="actor" type="url" required maxlength="500">
<label for="ban-group">${t(locale, 'mod.group')}</label>
<select id="ban-group" name="groupId">${groups === null ? html`<option value="">${t(locale, 'mod.allGroups')}</option>` : ''}${all.map((g) => html`<option value="${g.id}">${g.name}</option>`)}</select>
${reasonField('ban-reason', locale)}
<button type="submit">${t(locale, 'mod.ban')}</button>
</form>`;
    return sendPage(reply, request, ctx, { title: t(locale, 'mod.bans'), head: HEAD, body });
  });

  app.get('/moderation/log', { schema: { response: PAGE_RESPONSE } }, async (request, reply) => {
    const allowed = await moderatorOrRefuse(ctx, request, reply);
    if (!allowed) return reply;
    const { viewer, groups } = allowed;
    const { locale } = viewer;
    const rows =
      groups === null
        ? await listModerationLog(ctx.db, { limit: 200, offset: 0 })
        : (await Promise.all(groups.map((g) => listModerationLog(ctx.db, { groupId: g.id, limit: 200, offset: 0 })))).flat();
    const body = html`<h1>${t(locale, 'mod.log')}</h1>
${modNav(locale)}
${
  rows.length === 0
    ? html`<p class="muted">${t(locale, 'mod.noLog')}</p>`
    : html`<table><thead><tr><th scope="col">${t(locale, 'mod.when')}</th><th scope="col">${t(locale, 'mod.who')}</th><th scope="col">${t(locale, 'mod.action')}</th><th scope="col">${t(locale, 'mod.target')}</th><th scope="col">${t(locale, 'mod.reason')}</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><td>${timeTag(r.at, locale)}</td><td>${r.moderator}</td><td>${r.action}</td><td>${r.target}</td><td>${r.reason}</td></tr>`)}</tbody></table>`
}`;
    return sendPage(reply, request, ctx, { title: t(locale, 'mod.log'), head: HEAD, body });
  });

  await registerModerationActions(app, ctx);
}
