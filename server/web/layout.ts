// The layout shared by every page: a skip link, a header with the instance name and navigation,
// the main content, a footer. Light (one small stylesheet, no web fonts, no third-party request),
// readable without JavaScript; scripts only enhance, loaded as deferred modules.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csrfToken } from '../accounts/csrf.ts';
import type { Locale } from '../config.ts';
import type { AppContext } from '../core/context.ts';
import '../core/request-user.ts';
import { html, type SafeHtml } from './html.ts';
import { localeOf, t } from './i18n.ts';

export interface PageOptions {
  title: string;
  body: SafeHtml;
  description?: string;
  /** Extra tags for <head> (Open Graph, feeds). */
  head?: SafeHtml;
  /** Module scripts under /static/, e.g. 'live.js'. */
  scripts?: string[];
  status?: number;
}

/** Response schema of a route that answers an HTML page (it documents; HTML is sent as is). */
export const PAGE_RESPONSE = { 200: Type.String({ description: 'HTML page' }) };

export interface PageContext {
  locale: Locale;
  instanceName: string;
  user: { displayName: string | null; email: string; role: string } | null;
  path: string;
  /** The CSRF token of the session ('' without one): the layout's logout form carries it. */
  csrf: string;
}

export function pageContext(request: FastifyRequest, ctx: AppContext): PageContext {
  return {
    locale: localeOf(request, ctx.config.defaultLocale),
    instanceName: ctx.config.instanceName,
    user: request.user ?? null,
    path: request.url.split('?')[0] ?? '/',
    csrf: csrfToken(request),
  };
}

// Public links of the header. Each capability adds its own at registration:
//   addNavLink({ href: '/announcements', label: { fr: 'Annonces', en: 'Announcements' }, order: 10 })
// Links are shown by increasing `order`, after "Accueil" and before the account links.
export interface NavLink {
  href: string;
  label: Record<Locale, string>;
  order: number;
}

const navLinks: NavLink[] = [];

/** Adds a header link (once per href: several instances in one process register the same links). */
export function addNavLink(link: NavLink): void {
  if (navLinks.some((l) => l.href === link.href)) return;
  navLinks.push(link);
  navLinks.sort((a, b) => a.order - b.order || a.href.localeCompare(b.href));
}

/** The header links, in display order. */
export function headerLinks(): readonly NavLink[] {
  return navLinks;
}

const isCurrent = (path: string, href: string) => (href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`));

export function renderPage(pc: PageContext, options: PageOptions): string {
  const { locale } = pc;
  const link = (href: string, label: string) =>
    html`<li><a href="${href}"${isCurrent(pc.path, href) ? html` aria-current="page"` : ''}>${label}</a></li>`;
  // The logout form carries the session's CSRF token; a same-origin request without it is still
  // accepted (see accounts/auth.plugin.ts), for pages rendered without a session token.
  const csrf = pc.csrf ? html`<input type="hidden" name="_csrf" value="${pc.csrf}">` : '';
  const nav = html`<nav aria-label="${t(locale, 'nav.main')}">
      <ul>
        ${link('/', t(locale, 'nav.home'))}
        ${navLinks.map((l) => link(l.href, l.label[locale]))}
        ${
          pc.user
            ? html`${link('/admin', t(locale, 'nav.admin'))}
        <li><form method="post" action="/logout" class="inline">${csrf}<button type="submit" class="link">${t(locale, 'nav.logout')}</button></form></li>`
            : link('/login', t(locale, 'nav.login'))
        }
      </ul>
    </nav>`;
  return html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · ${pc.instanceName}</title>
${options.description ? html`<meta name="description" content="${options.description}">` : ''}
<link rel="stylesheet" href="/static/app.css">
<link rel="icon" href="/static/icon.png" type="image/png">
${options.head ?? ''}
${(options.scripts ?? []).map((s) => html`<script type="module" src="/static/${s}"></script>`)}
</head>
<body>
<a class="skip" href="#main">${t(locale, 'site.skip')}</a>
<header class="site">
  <a class="brand" href="/">${pc.instanceName}</a>
  ${nav}
</header>
<main id="main" tabindex="-1">
${options.body}
</main>
<footer class="site">
  <p>${t(locale, 'footer.about')}</p>
  <p class="langs">${t(locale, 'nav.language')}: <a href="/lang/fr" hreflang="fr" lang="fr">Français</a> · <a href="/lang/en" hreflang="en" lang="en">English</a></p>
</footer>
</body>
</html>`.value;
}

// Pages load only what this site serves (scripts, styles, fonts, images, connections): the browser
// itself refuses any third-party request (editors' images are copied here: server/media). No page
// may be framed by another site (clickjacking). No inline script runs (every script is a file under
// /static/), so an injected <script> stays inert; inline styles remain allowed because the
// newsletter preview shows the email's own HTML, whose styles MJML writes inline.
const PAGE_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': PAGE_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

export function sendPage(reply: FastifyReply, request: FastifyRequest, ctx: AppContext, options: PageOptions): FastifyReply {
  const pc = pageContext(request, ctx);
  // A capability that set one of these headers itself keeps its own value.
  for (const [name, value] of Object.entries(PAGE_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
  // A signed-in page shows personal data (and CSRF tokens): no cache may keep it.
  if (pc.user && !reply.hasHeader('cache-control')) reply.header('cache-control', 'private, no-store');
  return reply
    .code(options.status ?? 200)
    .type('text/html; charset=utf-8')
    .send(renderPage(pc, options));
}
