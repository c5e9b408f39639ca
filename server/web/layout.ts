// The layout shared by every page: a skip link, a header with the instance name and navigation,
// the main content, a footer. Light (one small stylesheet, no web fonts, no third-party request),
// readable without JavaScript; scripts only enhance, loaded as deferred modules.
import type { FastifyReply, FastifyRequest } from 'fastify';
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

export interface PageContext {
  locale: Locale;
  instanceName: string;
  user: { displayName: string | null; email: string; role: string } | null;
  path: string;
}

export function pageContext(request: FastifyRequest, ctx: AppContext): PageContext {
  return {
    locale: localeOf(request, ctx.config.defaultLocale),
    instanceName: ctx.config.instanceName,
    user: request.user ?? null,
    path: request.url.split('?')[0] ?? '/',
  };
}

export function renderPage(pc: PageContext, options: PageOptions): string {
  const { locale } = pc;
  const nav = html`<nav aria-label="${locale === 'fr' ? 'Navigation principale' : 'Main navigation'}">
      <ul>
        <li><a href="/"${pc.path === '/' ? html` aria-current="page"` : ''}>${t(locale, 'nav.home')}</a></li>
        ${
          pc.user
            ? html`<li><a href="/admin">${t(locale, 'nav.admin')}</a></li>
        <li><form method="post" action="/logout" class="inline"><button type="submit" class="link">${t(locale, 'nav.logout')}</button></form></li>`
            : html`<li><a href="/login">${t(locale, 'nav.login')}</a></li>`
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

export function sendPage(reply: FastifyReply, request: FastifyRequest, ctx: AppContext, options: PageOptions): FastifyReply {
  return reply
    .code(options.status ?? 200)
    .type('text/html; charset=utf-8')
    .send(renderPage(pageContext(request, ctx), options));
}
