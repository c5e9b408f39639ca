// Comments under announcement and resource pages: a section added through the page-sections
// extension point (the pages themselves know nothing of discussions), threaded like a group
// thread, with a form for signed-in people (members or staff) and replies from the fediverse.
// New comments appear live on an open page.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csrfField } from '../accounts/csrf.ts';
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { type PageSectionKind, type PageSectionSubject, registerPageSection } from '../web/page-sections.ts';
import { doneMessage, viewerOf, withDone } from './discussions.access.ts';
import { formFailure } from './discussions.forms.ts';
import { liveTopic } from './discussions.live.ts';
import { buildTree, liveAttributes, type PostViewer, renderNode, showsTo } from './discussions.views.ts';
import { requireMember } from './member-auth.ts';
import { listComments } from './posts.repository.ts';
import { createLocalPost } from './posts.service.ts';

const BASE: Record<PageSectionKind, string> = { announcement: '/announcements', resource: '/resources' };

async function commentsSection(
  ctx: AppContext,
  kind: PageSectionKind,
  request: FastifyRequest,
  reply: FastifyReply,
  subject: PageSectionSubject,
): Promise<SafeHtml> {
  if (!subject.public) return html``;
  const viewer = viewerOf(request, ctx);
  // The comment form carries the member's CSRF token: the page must not sit in a shared cache.
  if (viewer.member && !reply.hasHeader('cache-control')) reply.header('cache-control', 'private, no-store');
  const { locale } = viewer;
  const path = `${BASE[kind]}/${subject.id}`;
  const postViewer: PostViewer = {
    locale,
    csrf: csrfField(request),
    canReply: viewer.signedIn,
    signedIn: viewer.signedIn,
    canModerate: viewer.admin,
    ...(viewer.actorApId ? { actorApId: viewer.actorApId } : {}),
    back: path,
  };
  const rows = await listComments(ctx.db, kind === 'announcement' ? { announcementId: subject.id } : { resourceId: subject.id }, {
    includeHeld: true,
    limit: 1000,
  });
  const tree = buildTree(rows.filter((p) => showsTo(p, postViewer)));
  const done = (request.query as { done?: unknown } | undefined)?.done;
  const form = viewer.signedIn
    ? html`<form method="post" action="/discussions/comments">${postViewer.csrf}
<input type="hidden" name="kind" value="${kind}"><input type="hidden" name="targetId" value="${subject.id}">
<label for="comment-body">${t(locale, 'dc.label')}</label>
<textarea id="comment-body" name="body" rows="4" maxlength="20000" required></textarea>
<button type="submit">${t(locale, 'dc.submit')}</button>
</form>`
    : html`<p><a href="/members/sign-in?next=${encodeURIComponent(path)}">${t(locale, 'dc.signIn')}</a></p>`;
  return html`<link rel="stylesheet" href="/static/discussions.css">
<section class="dc" aria-labelledby="comments-title"${liveAttributes(locale, liveTopic({ kind, id: subject.id }), 'comments')}>
<h2 id="comments-title">${t(locale, 'dc.title')}</h2>
${typeof done === 'string' ? doneMessage(locale, done) : ''}
<ol class="dp-thread" data-dp-list aria-live="polite" aria-relevant="additions">${tree.map((node) => renderNode(node, postViewer))}</ol>
${tree.length === 0 ? html`<p class="muted dp-empty">${t(locale, 'dc.none')}</p>` : ''}
<h3>${t(locale, 'dc.add')}</h3>
${form}
<p class="muted">${t(locale, 'dc.fediverse')}</p>
</section>
<script type="module" src="/static/discussions.js"></script>`;
}

export async function registerCommentPages(app: AppServer, ctx: AppContext): Promise<void> {
  for (const kind of ['announcement', 'resource'] as const) {
    registerPageSection(ctx, kind, (request, reply, subject) => commentsSection(ctx, kind, request, reply, subject));
  }

  app.post(
    '/discussions/comments',
    {
      schema: {
        body: Type.Object({
          _csrf: Type.Optional(Type.String()),
          kind: Type.Union([Type.Literal('announcement'), Type.Literal('resource')]),
          targetId: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }),
          body: Type.String({ maxLength: 20_000 }),
        }),
      },
    },
    async (request, reply) => {
      const { kind, targetId, body } = request.body;
      const path = `${BASE[kind]}/${targetId}`;
      try {
        const post = await ctx.db.transaction().execute(async (trx) => {
          const member = await requireMember(ctx, request, trx);
          return createLocalPost(ctx, trx, {
            member,
            ...(kind === 'announcement' ? { announcementId: targetId } : { resourceId: targetId }),
            markdown: body,
          });
        });
        return reply.redirect(withDone(path, post.status === 'held' ? 'held' : 'commented', `p-${post.id}`), 303);
      } catch (error) {
        return formFailure(ctx, request, reply, error, {
          action: '/discussions/comments',
          back: path,
          fields: { body },
          hidden: { kind, targetId },
        });
      }
    },
  );
}
