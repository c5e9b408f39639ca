// The public home page (placeholder until the announcements capability fills it) and the language
// switch. Other capabilities add blocks to the home page with `registerHomeSection`.
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { hasAdmin } from '../accounts/setup.ts';
import type { Locale } from '../config.ts';
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { html, type SafeHtml } from './html.ts';
import { addMessages, t } from './i18n.ts';
import { PAGE_RESPONSE, pageContext, sendPage } from './layout.ts';
import { localPath } from './local-path.ts';

addMessages({
  fr: {
    'home.intro': 'Bienvenue sur le site du réseau. Les annonces et les nouvelles des AMAP du réseau paraîtront ici.',
    'home.setup': 'Cette instance vient d’être installée et n’a pas encore d’administrateur.',
    'home.setupLink': 'Créer le premier compte administrateur',
  },
  en: {
    'home.intro': 'Welcome to the network’s site. Announcements and news from the network’s AMAPs will appear here.',
    'home.setup': 'This instance has just been installed and has no administrator yet.',
    'home.setupLink': 'Create the first administrator account',
  },
});

export type HomeSection = (request: FastifyRequest) => Promise<SafeHtml>;

const everywhere: HomeSection[] = [];
const perInstance = new WeakMap<AppContext, HomeSection[]>();

/**
 * Adds a block to the home page, rendered in order of registration. Pass the instance's ctx first
 * (`registerHomeSection(ctx, render)`) so that several instances in one process (tests) keep their
 * own blocks; `registerHomeSection(render)` adds it to every instance.
 */
export function registerHomeSection(render: HomeSection): void;
export function registerHomeSection(ctx: AppContext, render: HomeSection): void;
export function registerHomeSection(a: AppContext | HomeSection, b?: HomeSection): void {
  if (typeof a === 'function') {
    everywhere.push(a);
    return;
  }
  const list = perInstance.get(a) ?? [];
  list.push(b!);
  perInstance.set(a, list);
}

function backTo(request: FastifyRequest, ctx: AppContext): string {
  const referer = request.headers.referer;
  if (!referer) return '/';
  try {
    const url = new URL(referer);
    const origins = [ctx.config.publicUrl, `${request.protocol}://${request.host}`];
    // The path goes through localPath: "http://host//evil.example" has the path "//evil.example".
    return (origins.includes(url.origin) && localPath(`${url.pathname}${url.search}`)) || '/';
  } catch {
    return '/';
  }
}

export async function registerHomePages(app: AppServer, ctx: AppContext): Promise<void> {
  app.get('/', { schema: { querystring: Type.Object({}), response: PAGE_RESPONSE } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    const sections = [...everywhere, ...(perInstance.get(ctx) ?? [])];
    const rendered = await Promise.all(sections.map((render) => render(request)));
    const setup = (await hasAdmin(ctx))
      ? ''
      : html`<p class="notice">${t(locale, 'home.setup')} <a href="/setup">${t(locale, 'home.setupLink')}</a></p>`;
    const body = html`<h1>${ctx.config.instanceName}</h1>
${setup}
${rendered.length > 0 ? rendered : html`<p>${t(locale, 'home.intro')}</p>`}`;
    return sendPage(reply, request, ctx, { title: t(locale, 'nav.home'), body });
  });

  app.get(
    '/lang/:locale',
    { schema: { params: Type.Object({ locale: Type.Union([Type.Literal('fr'), Type.Literal('en')]) }) } },
    async (request, reply) => {
      const locale: Locale = request.params.locale;
      reply.setCookie('lang', locale, {
        path: '/',
        sameSite: 'lax',
        httpOnly: true,
        secure: ctx.config.publicUrl.startsWith('https:'),
        maxAge: 365 * 24 * 3600,
      });
      return reply.redirect(backTo(request, ctx), 303);
    },
  );
}
