// Public pages: the announcements feed (this network's and those received from others, filterable
// by network or tag), one page per announcement (with Open Graph tags, readable without
// JavaScript), and the announcements block of the home page. The live feed only adds to them.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { hasRole } from '../accounts/guards.ts';
import type { Locale } from '../config.ts';
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { registerHomeSection } from '../web/home.pages.ts';
import { html, raw, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { addNavLink, PAGE_RESPONSE, pageContext, sendPage } from '../web/layout.ts';
import { renderPageSections } from '../web/page-sections.ts';
import { normalizeTag } from './announcements.domain.ts';
import { type AnnouncementRow, getAnnouncementById, listAnnouncements, listNetworks } from './announcements.repository.ts';
import { announcementList, feedBox, feedLinks, timeTag } from './announcements.views.ts';

addNavLink({ href: '/announcements', label: { fr: 'Annonces', en: 'Announcements' }, order: 10 });

const PAGE_SIZE = 20;
const LINK_REL = 'nofollow noopener ugc';

const FeedQuery = Type.Object({
  network: Type.Optional(Type.String({ maxLength: 300 })),
  origin: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('remote'), Type.Literal('all')])),
  tag: Type.Optional(Type.String({ maxLength: 60 })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
});

export async function registerAnnouncementPages(app: AppServer, ctx: AppContext): Promise<void> {
  registerHomeSection(ctx, (request) => homeSection(ctx, request));

  app.get('/announcements', { schema: { querystring: FeedQuery, response: PAGE_RESPONSE } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    const page = request.query.page ?? 1;
    const network = request.query.network || undefined;
    const origin = network ? 'remote' : (request.query.origin ?? 'all');
    const tag = request.query.tag ? (normalizeTag(request.query.tag) ?? undefined) : undefined;
    const [rows, networks] = await Promise.all([
      listAnnouncements(ctx.db, {
        origin,
        ...(network ? { networkHandle: network } : {}),
        ...(tag ? { tag } : {}),
        limit: PAGE_SIZE + 1,
        offset: (page - 1) * PAGE_SIZE,
      }),
      listNetworks(ctx.db),
    ]);
    const link = (changes: Record<string, string | number | undefined>) => {
      const params = new URLSearchParams();
      const merged: Record<string, string | number | undefined> = {
        network,
        origin: network || origin === 'all' ? undefined : origin,
        tag,
        page: undefined,
        ...changes,
      };
      for (const [key, value] of Object.entries(merged)) {
        if (value !== undefined && !(key === 'page' && value === 1)) params.set(key, String(value));
      }
      const query = params.toString();
      return query ? `/announcements?${query}` : '/announcements';
    };
    const current = (active: boolean) => (active ? html` aria-current="page"` : '');
    const filters = html`<nav class="ann-filter" aria-label="${t(locale, 'ann.filter')}"><ul>
<li><a href="/announcements"${current(origin === 'all' && !network)}>${t(locale, 'ann.filterAll')}</a></li>
<li><a href="/announcements?origin=local"${current(origin === 'local')}>${t(locale, 'ann.filterLocal', { name: ctx.config.instanceName })}</a></li>
${networks.map((n) => html`<li><a href="${link({ network: n.handle, origin: undefined, tag: undefined })}"${current(network === n.handle)}>${n.name}</a> <span class="muted">(${n.count})</span></li>`)}
</ul></nav>`;
    const pager =
      page > 1 || rows.length > PAGE_SIZE
        ? html`<nav class="ann-pager" aria-label="Pagination"><ul>
${page > 1 ? html`<li><a href="${link({ page: page - 1 })}" rel="prev">${t(locale, 'ann.newer')}</a></li>` : ''}
${rows.length > PAGE_SIZE ? html`<li><a href="${link({ page: page + 1 })}" rel="next">${t(locale, 'ann.older')}</a></li>` : ''}
</ul></nav>`
        : '';
    const heading = tag ? t(locale, 'ann.tag', { tag }) : t(locale, 'ann.title');
    const body = html`<h1>${heading}</h1>
${filters}
${announcementList(rows.slice(0, PAGE_SIZE), locale, { origin, ...(network ? { network } : {}), heading: 'h2', max: PAGE_SIZE, live: page === 1 && !tag })}
${pager}
${feedBox(locale)}`;
    return sendPage(reply, request, ctx, {
      title: heading,
      body,
      head: feedLinks(ctx.config.instanceName, locale),
      scripts: page === 1 && !tag ? ['live.js'] : [],
    });
  });

  app.get(
    '/announcements/:id',
    { schema: { params: Type.Object({ id: Type.String({ maxLength: 100 }) }), response: PAGE_RESPONSE } },
    async (request, reply) => {
      const row = await getAnnouncementById(ctx.db, request.params.id);
      const { locale } = pageContext(request, ctx);
      const editor = hasRole(request.user, 'editor');
      if (!row || (row.status === 'draft' && !editor)) return notFound(request, reply, ctx, locale);
      if (row.deleted_at) {
        return sendPage(reply, request, ctx, {
          title: t(locale, 'ann.goneTitle'),
          status: 410,
          body: html`<h1>${t(locale, 'ann.goneTitle')}</h1><p>${t(locale, 'ann.gone')}</p><p><a href="/announcements">${t(locale, 'ann.back')}</a></p>`,
        });
      }
      return sendPage(reply, request, ctx, {
        title: row.title,
        description: row.summary,
        head: html`${openGraph(ctx, row)}
${feedLinks(ctx.config.instanceName, locale)}`,
        body: html`${announcementArticle(row, locale)}
${await renderPageSections(ctx, 'announcement', request, reply, { id: row.id, public: row.status !== 'draft' })}`,
      });
    },
  );
}

function notFound(request: FastifyRequest, reply: FastifyReply, ctx: AppContext, locale: Locale): FastifyReply {
  return sendPage(reply, request, ctx, {
    title: t(locale, 'error.title'),
    status: 404,
    body: html`<h1>${t(locale, 'error.title')}</h1><p>${t(locale, 'error.notFound')}</p><p><a href="/announcements">${t(locale, 'ann.back')}</a></p>`,
  });
}

function pageUrl(ctx: AppContext, row: AnnouncementRow): string {
  return `${ctx.config.publicUrl}/announcements/${row.id}`;
}

function openGraph(ctx: AppContext, row: AnnouncementRow): SafeHtml {
  const url = pageUrl(ctx, row);
  return html`<link rel="canonical" href="${url}">
${row.status === 'draft' ? html`<meta name="robots" content="noindex">` : ''}
<meta property="og:type" content="article">
<meta property="og:title" content="${row.title}">
<meta property="og:description" content="${row.summary}">
<meta property="og:url" content="${url}">
<meta property="og:site_name" content="${ctx.config.instanceName}">
${row.image_url ? html`<meta property="og:image" content="${row.image_url}">` : ''}
${row.image_url && row.image_alt ? html`<meta property="og:image:alt" content="${row.image_alt}">` : ''}
${row.published_at ? html`<meta property="article:published_time" content="${new Date(row.published_at).toISOString()}">` : ''}
${row.tags.map((tag) => html`<meta property="article:tag" content="${tag}">`)}`;
}

function announcementArticle(row: AnnouncementRow, locale: Locale): SafeHtml {
  const remote = row.origin === 'remote';
  const network = row.network_name ?? row.network_handle ?? '';
  const edited = row.published_at && new Date(row.updated_at).getTime() - new Date(row.published_at).getTime() > 60_000;
  // A remote image would make the reader's browser call another server: it is offered as a link.
  const image = row.image_url
    ? remote
      ? html`<p><a href="${row.image_url}" rel="${LINK_REL}">${row.image_alt || row.image_url}</a></p>`
      : html`<figure class="ann-image"><img src="${row.image_url}" alt="${row.image_alt ?? ''}"></figure>`
    : '';
  return html`<article class="ann">
${row.status === 'draft' ? html`<p class="notice">${t(locale, 'ann.draftNotice')}</p>` : ''}
<h1>${row.title}</h1>
<p class="ann-meta">${remote ? html`${t(locale, 'ann.from', { network })} · ` : ''}${
    row.published_at ? html`${t(locale, 'ann.publishedOn', { date: '' })}${timeTag(row.published_at, locale)}` : ''
  }${edited ? html`, ${t(locale, 'ann.updatedOn', { date: '' })}${timeTag(row.updated_at, locale)}` : ''}</p>
${!row.summary_auto && row.summary ? html`<p class="ann-summary">${row.summary}</p>` : ''}
${image}
<div class="ann-content">${raw(row.content_html)}</div>
${
  row.tags.length > 0
    ? html`<p class="ann-tags"><span>${t(locale, 'ann.tags')}</span> ${row.tags.map(
        (tag) => html`<a href="/announcements?tag=${encodeURIComponent(tag)}" rel="tag">#${tag}</a> `,
      )}</p>`
    : ''
}
${remote ? html`<p><a href="${row.url}" rel="${LINK_REL}">${t(locale, 'ann.original', { network })}</a></p>` : ''}
</article>
<p><a href="/announcements">${t(locale, 'ann.back')}</a></p>`;
}

/** The home page block: the latest announcements of this network and of the others, live. */
async function homeSection(ctx: AppContext, request: FastifyRequest): Promise<SafeHtml> {
  const { locale } = pageContext(request, ctx);
  const [local, network] = await Promise.all([
    listAnnouncements(ctx.db, { origin: 'local', limit: 5 }),
    listAnnouncements(ctx.db, { origin: 'remote', limit: 5 }),
  ]);
  return html`<link rel="stylesheet" href="/static/announcements.css">
<section class="ann-home" aria-labelledby="ann-home-local">
<h2 id="ann-home-local">${t(locale, 'ann.latestLocal')}</h2>
${announcementList(local, locale, { origin: 'local', heading: 'h3', max: 5, live: true })}
</section>
<section class="ann-home" aria-labelledby="ann-home-network">
<h2 id="ann-home-network">${t(locale, 'ann.latestNetwork')}</h2>
${announcementList(network, locale, { origin: 'remote', heading: 'h3', max: 5, live: true })}
</section>
<p><a href="/announcements">${t(locale, 'ann.all')}</a></p>
${feedBox(locale)}
<script type="module" src="/static/live.js"></script>`;
}
