// A thread: /discussions/posts/:id shows a group thread with its replies nested under their
// parents (H1 answers the same URL with ActivityPub JSON when asked). A reply's URL shows its
// thread at the reply; a comment's URL goes to the announcement or resource it answers. Also the
// reply and report forms (POST, then 303), and the HTML fragment of one post that the live script
// fetches, checked exactly like the page. Members-only threads: 403 to anyone outside the group.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csrfField } from '../accounts/csrf.ts';
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { html } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { PAGE_RESPONSE, sendPage } from '../web/layout.ts';
import {
  doneMessage,
  groupAccess,
  groupPath,
  personActorUri,
  sendMembersOnly,
  sendNotFound,
  type Viewer,
  viewerOf,
  withDone,
} from './discussions.access.ts';
import { formFailure } from './discussions.forms.ts';
import { liveTopic } from './discussions.live.ts';
import {
  buildTree,
  liveAttributes,
  MAX_DEPTH,
  type PostViewer,
  renderNode,
  showsTo,
  threadFooter,
  threadSummary,
} from './discussions.views.ts';
import { findGroupById, type GroupRow } from './groups.repository.ts';
import { requireMember } from './member-auth.ts';
import { reportPost } from './moderation.service.ts';
import { countThread, findPostById, listThread, type PostRow } from './posts.repository.ts';
import { createLocalPost, removePost } from './posts.service.ts';

const PAGE_SIZE = 200;
const Params = Type.Object({ id: Type.String({ maxLength: 100 }) });

/** Where a post is shown: its thread page (at the post), or the page it comments on. */
export function pageOfPost(post: Pick<PostRow, 'id' | 'thread_id' | 'announcement_id' | 'resource_id'>): { path: string; anchor: string } {
  const anchor = `p-${post.id}`;
  if (post.announcement_id) return { path: `/announcements/${post.announcement_id}`, anchor };
  if (post.resource_id) return { path: `/resources/${post.resource_id}`, anchor };
  return { path: `/discussions/posts/${post.thread_id ?? post.id}`, anchor };
}

interface Readable {
  post: PostRow;
  group: GroupRow | undefined;
  viewer: Viewer;
  postViewer: PostViewer;
}

/** The post if this viewer may read it; otherwise the 404 or 403 page has been sent. */
async function readable(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, id: string): Promise<Readable | FastifyReply> {
  const post = await findPostById(ctx.db, id);
  if (!post) return sendNotFound(request, reply, ctx);
  const viewer = viewerOf(request, ctx);
  const group = post.group_id ? await findGroupById(ctx.db, post.group_id) : undefined;
  if (post.group_id && !group) return sendNotFound(request, reply, ctx);
  const access = group ? await groupAccess(ctx, group, viewer) : undefined;
  if (group && !access?.read) return sendMembersOnly(request, reply, ctx, group);
  if (!group && post.visibility !== 'public') return sendNotFound(request, reply, ctx);
  const postViewer: PostViewer = {
    locale: viewer.locale,
    csrf: csrfField(request),
    canReply: group ? access?.member === true : viewer.signedIn,
    signedIn: viewer.signedIn,
    canModerate: group ? access?.moderator === true : viewer.admin,
    ...(viewer.actorApId ? { actorApId: viewer.actorApId } : {}),
    back: pageOfPost(post).path,
  };
  if (!showsTo(post, postViewer)) return sendNotFound(request, reply, ctx);
  return { post, group, viewer, postViewer };
}

export async function registerThreadPages(app: AppServer, ctx: AppContext): Promise<void> {
  app.get(
    '/discussions/posts/:id',
    {
      schema: {
        params: Params,
        querystring: Type.Object({
          page: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
          done: Type.Optional(Type.String({ maxLength: 20 })),
        }),
        response: PAGE_RESPONSE,
      },
    },
    async (request, reply) => {
      const found = await readable(ctx, request, reply, request.params.id);
      if (!('post' in found)) return found;
      const { post, group, viewer, postViewer } = found;
      const { locale } = viewer;
      const rootId = post.thread_id ?? post.id;
      if (post.id !== rootId || !group) {
        const { path, anchor } = pageOfPost(post);
        return reply.redirect(`${path}#${anchor}`, 303);
      }
      const page = request.query.page ?? 1;
      const rows = await listThread(ctx.db, rootId, { includeHeld: true, limit: PAGE_SIZE + 1, offset: (page - 1) * PAGE_SIZE });
      const visible = rows.slice(0, PAGE_SIZE).filter((p) => showsTo(p, postViewer));
      const tree = buildTree(visible);
      const title = post.title || t(locale, 'dp.thread');
      const path = `/discussions/posts/${rootId}`;
      const pager =
        page > 1 || rows.length > PAGE_SIZE
          ? html`<nav class="dp-pager" aria-label="Pagination"><ul>
${page > 1 ? html`<li><a href="${path}${page > 2 ? `?page=${page - 1}` : ''}" rel="prev">${t(locale, 'dg.newer')}</a></li>` : ''}
${rows.length > PAGE_SIZE ? html`<li><a href="${path}?page=${page + 1}" rel="next">${t(locale, 'dg.older')}</a></li>` : ''}
</ul></nav>`
          : '';
      const live = rows.length <= PAGE_SIZE;
      const body = html`${doneMessage(locale, request.query.done)}
<p class="dp-meta"><a href="${groupPath(group)}">${t(locale, 'dp.inGroup', { group: group.name })}</a></p>
<h1>${title}</h1>
<div${live ? liveAttributes(locale, liveTopic({ kind: 'group', id: group.id }), 'thread', rootId) : ''}>
<ol class="dp-thread" data-dp-list aria-live="polite" aria-relevant="additions">${tree.map((node) => renderNode(node, postViewer))}</ol>
</div>
${pager}
${threadFooter(postViewer, groupPath(group))}
<p><a href="${groupPath(group)}">${t(locale, 'dp.back')}</a></p>`;
      return sendPage(reply, request, ctx, {
        title,
        description: post.content_text.slice(0, 200) || title,
        head: html`<link rel="stylesheet" href="/static/discussions.css">
${group.visibility === 'public' ? html`<link rel="alternate" type="application/activity+json" href="${post.ap_id}">` : html`<meta name="robots" content="noindex">`}`,
        scripts: live ? ['discussions.js'] : [],
        body,
      });
    },
  );

  // One post as an HTML fragment (a list item), for the live script: same checks as the page.
  app.get(
    '/discussions/posts/:id/fragment',
    {
      schema: {
        params: Params,
        querystring: Type.Object({ view: Type.Optional(Type.Union([Type.Literal('post'), Type.Literal('summary')])) }),
        response: PAGE_RESPONSE,
      },
    },
    async (request, reply) => {
      const found = await readable(ctx, request, reply, request.params.id);
      if (!('post' in found)) return found;
      const { post, postViewer } = found;
      const fragment =
        request.query.view === 'summary'
          ? threadSummary(post, postViewer.locale, Math.max(0, (await countThread(ctx.db, post.id)) - 1))
          : renderNode({ post, level: Math.min(post.depth, MAX_DEPTH), children: [] }, postViewer);
      return reply
        .header('cache-control', 'private, no-store')
        .header('x-content-type-options', 'nosniff')
        .type('text/html; charset=utf-8')
        .send(fragment.value);
    },
  );

  app.post(
    '/discussions/posts/:id/replies',
    { schema: { params: Params, body: Type.Object({ _csrf: Type.Optional(Type.String()), body: Type.String({ maxLength: 20_000 }) }) } },
    async (request, reply) => {
      const parent = await findPostById(ctx.db, request.params.id);
      if (!parent) return sendNotFound(request, reply, ctx);
      const back = pageOfPost(parent);
      try {
        const post = await ctx.db.transaction().execute(async (trx) => {
          const member = await requireMember(ctx, request, trx);
          return createLocalPost(ctx, trx, { member, inReplyTo: parent.id, markdown: request.body.body });
        });
        const at = pageOfPost(post);
        const done = post.status === 'held' ? 'held' : post.announcement_id || post.resource_id ? 'commented' : 'replied';
        return reply.redirect(withDone(at.path, done, at.anchor), 303);
      } catch (error) {
        return formFailure(ctx, request, reply, error, {
          action: `/discussions/posts/${parent.id}/replies`,
          back: `${back.path}#${back.anchor}`,
          fields: { body: request.body.body },
        });
      }
    },
  );

  app.post(
    '/discussions/posts/:id/delete',
    { schema: { params: Params, body: Type.Object({ _csrf: Type.Optional(Type.String()) }) } },
    async (request, reply) => {
      const post = await findPostById(ctx.db, request.params.id);
      if (!post) return sendNotFound(request, reply, ctx);
      // removePost refuses anyone but the author (403) when not acting as a moderator.
      await ctx.db.transaction().execute(async (trx) => {
        const member = await requireMember(ctx, request, trx);
        await removePost(ctx, trx, {
          postId: post.id,
          by: { authorApId: personActorUri(ctx, member.username) },
          reason: 'removed by its author',
        });
      });
      const at = pageOfPost(post);
      return reply.redirect(withDone(at.path, 'deleted', at.anchor), 303);
    },
  );

  app.post(
    '/discussions/posts/:id/report',
    {
      schema: {
        params: Params,
        body: Type.Object({ _csrf: Type.Optional(Type.String()), reason: Type.String({ minLength: 1, maxLength: 1000 }) }),
      },
    },
    async (request, reply) => {
      const found = await readable(ctx, request, reply, request.params.id);
      if (!('post' in found)) return found;
      const { post } = found;
      await ctx.db.transaction().execute(async (trx) => {
        const member = await requireMember(ctx, request, trx);
        await reportPost(ctx, trx, { postId: post.id, reporter: personActorUri(ctx, member.username), reason: request.body.reason });
      });
      const at = pageOfPost(post);
      return reply.redirect(withDone(at.path, 'reported', at.anchor), 303);
    },
  );
}
