// Refusals shown to a person in a browser are pages, not JSON: a volunteer whose session expired
// or whose form is stale must read what happened and where to go. API clients still get JSON.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../core/context.ts';
import { html } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { pageContext, sendPage } from '../web/layout.ts';
import './accounts.messages.ts';

const contexts = new WeakMap<FastifyRequest, AppContext>();

/** Called by the auth hook: lets guards render pages without being handed the context. */
export function rememberContext(request: FastifyRequest, ctx: AppContext): void {
  contexts.set(request, ctx);
}

/** True for a browser (it accepts HTML) outside the REST API. */
export function isBrowser(request: FastifyRequest): boolean {
  return !request.url.startsWith('/api/') && (request.headers.accept ?? '').includes('text/html');
}

/** Sends an error page when the request comes from a browser; false when it should get JSON. */
export function sendErrorPage(request: FastifyRequest, reply: FastifyReply, status: number, messageKey: string): boolean {
  const ctx = contexts.get(request);
  if (!ctx || !isBrowser(request)) return false;
  const { locale } = pageContext(request, ctx);
  const body = html`<h1>${t(locale, 'error.title')}</h1>
<p role="alert">${t(locale, messageKey)}</p>
<p>${request.user ? html`<a href="/admin">${t(locale, 'nav.admin')}</a> · ` : ''}<a href="/">${t(locale, 'nav.home')}</a></p>`;
  sendPage(reply, request, ctx, { title: t(locale, 'error.title'), body, status });
  return true;
}
