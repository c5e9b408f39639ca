// The public library pages: /resources (search box, filters as plain links, results, paging) and
// /resources/:id (description, files with type and size, the licence and how to credit it).
// Plain HTML forms and links: everything works without JavaScript.
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Locale } from '../config.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { wantsActivityJson } from '../federation/adapter.ts';
import { federationOf } from '../federation/federation.module.ts';
import { FILE_KINDS, type FileKind, KINDS } from '../storage/file-type.ts';
import { formatBytes } from '../storage/local-storage.ts';
import { html, raw, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { addNavLink, pageContext, sendPage } from '../web/layout.ts';
import { renderPageSections } from '../web/page-sections.ts';
import { creditLine, findLicence, LICENCES, licenceName } from './licences.ts';
import { documentJson } from './resources.federation.ts';
import type { ResourcesModule } from './resources.module.ts';
import type { FileRow, ResourceRow } from './resources.repository.ts';
import { fileUrl } from './resources.schemas.ts';
import { AUDIENCES, viewResource } from './resources.service.ts';
import type { Audience } from './resources.tables.ts';
import { type Facets, facets, searchResources } from './resources-search.repository.ts';
import { foldAccents } from './text.ts';
import './resources.messages.ts';

addNavLink({ href: '/resources', label: { fr: 'Ressources', en: 'Resources' }, order: 20 });

const PER_PAGE = 20;
const FORMATS = ['document', 'spreadsheet', 'presentation', 'image', 'text', 'link'] as const;
const FILTERS = ['q', 'network', 'tag', 'audience', 'licence', 'format'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

const PageQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200 })),
  network: Type.Optional(Type.String({ maxLength: 200 })),
  tag: Type.Optional(Type.String({ maxLength: 40 })),
  audience: Type.Optional(Type.String({ maxLength: 20 })),
  licence: Type.Optional(Type.String({ maxLength: 40 })),
  format: Type.Optional(Type.String({ maxLength: 20 })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
});

function href(filters: Filters, change: Filters & { page?: number }): string {
  const params = new URLSearchParams();
  for (const key of FILTERS) {
    const value = key in change ? change[key] : filters[key];
    if (value) params.set(key, value);
  }
  if (change.page && change.page > 1) params.set('page', String(change.page));
  const query = params.toString();
  return query ? `/resources?${query}` : '/resources';
}

export function kindLabel(kind: string | null, locale: Locale): string {
  return kind && FILE_KINDS.includes(kind as FileKind) ? KINDS[kind as FileKind].label[locale] : locale === 'fr' ? 'fichier' : 'file';
}

export function formatDate(date: Date, locale: Locale): string {
  return date.toLocaleDateString(locale === 'fr' ? 'fr-FR' : 'en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
}

function facetList(
  label: string,
  key: keyof Filters,
  options: Array<{ value: string; label: string }>,
  filters: Filters,
  locale: Locale,
): SafeHtml {
  if (options.length === 0) return html``;
  return html`<h3>${label}</h3>
    <ul class="facets">
      <li>${filters[key] ? html`<a href="${href(filters, { [key]: undefined })}">${t(locale, 'resources.filter.all')}</a>` : html`<strong>${t(locale, 'resources.filter.all')}</strong>`}</li>
      ${options.map((o) =>
        filters[key] === o.value
          ? html`<li><a href="${href(filters, { [key]: o.value })}" aria-current="true"><strong>${o.label}</strong></a></li>`
          : html`<li><a href="${href(filters, { [key]: o.value })}">${o.label}</a></li>`,
      )}
    </ul>`;
}

function resourceItem(r: ResourceRow, locale: Locale): SafeHtml {
  return html`<li class="resource">
    <h3><a href="/resources/${r.id}">${r.title}</a></h3>
    ${r.summary ? html`<p>${r.summary}</p>` : ''}
    <p class="muted">${licenceName(r.licence, locale)}${r.networkName ? html` · ${t(locale, 'resources.from', { network: r.networkName })}` : ''}${
      r.formats.length ? html` · ${r.formats.map((f) => t(locale, `resources.format.${f}`)).join(', ')}` : ''
    } · ${formatDate(r.publishedAt, locale)}</p>
  </li>`;
}

// The facet links need a pass over every published resource (tags are counted): computed at most
// once a minute per process, not on every page view.
const FACETS_TTL_MS = 60_000;
const facetCache = new WeakMap<ResourcesModule, { at: number; data: Promise<Facets> }>();

function cachedFacets(m: ResourcesModule): Promise<Facets> {
  const hit = facetCache.get(m);
  if (hit && Date.now() - hit.at < FACETS_TTL_MS) return hit.data;
  const data = facets(m.ctx.db);
  facetCache.set(m, { at: Date.now(), data });
  data.catch(() => facetCache.delete(m));
  return data;
}

async function listPage(m: ResourcesModule, request: FastifyRequest, query: Filters & { page?: number }) {
  const { locale } = pageContext(request, m.ctx);
  const filters: Filters = {};
  for (const key of FILTERS) if (query[key]?.trim()) filters[key] = query[key]!.trim();
  if (filters.audience && !AUDIENCES.includes(filters.audience as Audience)) delete filters.audience;
  const page = query.page ?? 1;
  const [result, facetData] = await Promise.all([
    searchResources(m.ctx.db, {
      ...(filters.q ? { q: foldAccents(filters.q) } : {}),
      ...(filters.network ? { network: filters.network } : {}),
      ...(filters.tag ? { tag: filters.tag.toLowerCase() } : {}),
      ...(filters.audience ? { audience: filters.audience as Audience } : {}),
      ...(filters.licence ? { licence: filters.licence } : {}),
      ...(filters.format ? { format: filters.format } : {}),
      limit: PER_PAGE,
      offset: (page - 1) * PER_PAGE,
    }),
    cachedFacets(m),
  ]);
  const pages = Math.max(1, Math.ceil(result.total / PER_PAGE));
  const any = FILTERS.some((k) => filters[k]);
  const body = html`<h1>${t(locale, 'resources.title')}</h1>
    <p>${t(locale, 'resources.intro')}</p>
    <form method="get" action="/resources" role="search">
      <label for="q">${t(locale, 'resources.search')}</label>
      <input type="search" id="q" name="q" value="${filters.q ?? ''}">
      ${FILTERS.filter((k) => k !== 'q' && filters[k]).map((k) => html`<input type="hidden" name="${k}" value="${filters[k] ?? ''}">`)}
      <button type="submit">${t(locale, 'resources.searchButton')}</button>
    </form>
    <nav aria-labelledby="filters-title">
      <h2 id="filters-title">${t(locale, 'resources.filters')}</h2>
      ${any ? html`<p><a href="/resources">${t(locale, 'resources.filter.clear')}</a></p>` : ''}
      ${facetList(
        t(locale, 'resources.filter.network'),
        'network',
        [
          { value: 'local', label: t(locale, 'resources.filter.local') },
          ...facetData.networks.map((n) => ({ value: n.handle, label: n.name })),
        ],
        filters,
        locale,
      )}
      ${facetList(
        t(locale, 'resources.filter.tag'),
        'tag',
        facetData.tags.map((x) => ({ value: x.value, label: `${x.value} (${x.count})` })),
        filters,
        locale,
      )}
      ${facetList(
        t(locale, 'resources.filter.audience'),
        'audience',
        AUDIENCES.map((a) => ({ value: a, label: t(locale, `resources.audience.${a}`) })),
        filters,
        locale,
      )}
      ${facetList(
        t(locale, 'resources.filter.licence'),
        'licence',
        LICENCES.map((l) => ({ value: l.code, label: licenceName(l.code, locale) })),
        filters,
        locale,
      )}
      ${facetList(
        t(locale, 'resources.filter.format'),
        'format',
        FORMATS.map((f) => ({ value: f, label: t(locale, `resources.format.${f}`) })),
        filters,
        locale,
      )}
    </nav>
    <section aria-labelledby="results-title">
      <h2 id="results-title">${t(locale, 'resources.count', { count: result.totalCapped ? `${result.total.toLocaleString(locale)}+` : result.total.toLocaleString(locale) })}</h2>
      ${result.items.length === 0 ? html`<p>${t(locale, 'resources.none')}</p>` : html`<ul class="resources">${result.items.map((r) => resourceItem(r, locale))}</ul>`}
      ${
        pages > 1
          ? html`<nav aria-label="Pagination"><p>
          ${page > 1 ? html`<a href="${href(filters, { page: page - 1 })}" rel="prev">${t(locale, 'resources.previous')}</a>` : ''}
          ${page < pages ? html` <a href="${href(filters, { page: page + 1 })}" rel="next">${t(locale, 'resources.next')}</a>` : ''}
        </p></nav>`
          : ''
      }
    </section>`;
  return { title: t(locale, 'resources.title'), body, description: t(locale, 'resources.intro') };
}

function fileTable(resourceId: string, files: FileRow[], locale: Locale): SafeHtml {
  return html`<table>
    <thead><tr><th scope="col">${t(locale, 'resources.file.name')}</th><th scope="col">${t(locale, 'resources.file.type')}</th><th scope="col">${t(locale, 'resources.file.size')}</th><th scope="col">${t(locale, 'resources.file.version')}</th></tr></thead>
    <tbody>${files.map(
      (f) =>
        html`<tr><td><a href="${fileUrl(resourceId, f)}"${f.remoteUrl ? html` rel="nofollow noopener"` : ''}>${f.name}</a></td><td>${kindLabel(f.kind, locale)}</td><td>${f.size === null ? '—' : formatBytes(f.size)}</td><td>${f.version}</td></tr>`,
    )}</tbody>
  </table>`;
}

export function licenceBlock(r: ResourceRow, locale: Locale): SafeHtml {
  const licence = findLicence(r.licence);
  return html`<section aria-labelledby="licence-title" class="notice">
    <h2 id="licence-title">${t(locale, 'resources.licence')} : ${licenceName(r.licence, locale)}</h2>
    ${licence ? html`<p>${licence.allows[locale]}</p>` : ''}
    ${licence?.url ? html`<p><a href="${licence.url}" rel="license noopener">${t(locale, 'resources.licence.text')}</a></p>` : ''}
    <h3>${t(locale, 'resources.credit')}</h3>
    <p>${creditLine(r.licence, locale, { title: r.title, author: r.authorName })}</p>
  </section>`;
}

export async function registerResourcePages(app: AppServer, m: ResourcesModule): Promise<void> {
  app.get('/resources', { schema: { querystring: PageQuery } }, async (request, reply) => {
    const page = await listPage(m, request, request.query);
    return sendPage(reply, request, m.ctx, page);
  });

  app.get('/resources/:id', { schema: { params: Type.Object({ id: Type.String({ maxLength: 100 }) }) } }, async (request, reply) => {
    const { locale } = pageContext(request, m.ctx);
    let view: Awaited<ReturnType<typeof viewResource>>;
    try {
      view = await viewResource(m.ctx.db, request.params.id, request.user !== null);
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') {
        return sendPage(reply, request, m.ctx, {
          title: t(locale, 'error.title'),
          body: html`<h1>${t(locale, 'error.title')}</h1><p>${t(locale, 'error.notFound')}</p>`,
          status: 404,
        });
      }
      throw error;
    }
    const r = view.resource;
    if (wantsActivityJson(request)) {
      const fed = federationOf(m.ctx);
      if (!fed || r.origin !== 'local' || r.status !== 'published') throw new AppError('not_found', 'No such Document here.');
      return reply.type('application/activity+json').send(JSON.stringify(await documentJson(m.ctx.db, r, fed.rt.urls)));
    }
    const body = html`<article lang="${r.language}">
      <h1>${r.title}</h1>
      ${r.status !== 'published' ? html`<p class="notice" role="status">${t(locale, 'resources.unpublished')}</p>` : ''}
      <p class="muted">${t(locale, 'resources.by', { author: r.authorName })}${r.networkName ? html` · ${t(locale, 'resources.from', { network: r.networkName })}` : ''} · ${t(locale, 'resources.published', { date: formatDate(r.publishedAt, locale) })} · ${t(locale, `resources.audience.${r.audience}`)}</p>
      ${r.descriptionHtml ? html`<div class="description">${raw(r.descriptionHtml)}</div>` : ''}
      ${view.current.length ? html`<h2>${t(locale, 'resources.files')}</h2>${fileTable(r.id, view.current, locale)}` : ''}
      ${view.older.length ? html`<details><summary>${t(locale, 'resources.olderVersions')}</summary>${fileTable(r.id, view.older, locale)}</details>` : ''}
      ${r.linkUrl ? html`<h2>${t(locale, 'resources.link')}</h2><p><a href="${r.linkUrl}" rel="nofollow noopener">${r.linkUrl}</a></p>` : ''}
      ${licenceBlock(r, locale)}
      ${r.tags.length ? html`<h2>${t(locale, 'resources.tags')}</h2><ul>${r.tags.map((tag) => html`<li><a href="/resources?tag=${encodeURIComponent(tag)}">${tag}</a></li>`)}</ul>` : ''}
      ${request.user && r.origin === 'local' ? html`<p><a href="/admin/resources/${r.id}">${t(locale, 'resources.admin.edit')}</a></p>` : ''}
    </article>
    ${await renderPageSections(m.ctx, 'resource', request, reply, { id: r.id, public: r.status === 'published' })}`;
    return sendPage(reply, request, m.ctx, { title: r.title, body, description: r.summary || r.title });
  });
}
