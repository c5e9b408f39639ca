// Public pages of the newsletter, for people without an account: subscribe, confirm (a GET shows
// a button, only the POST changes anything: mail scanners follow links), preferences, unsubscribe
// (including RFC 8058 one-click), "my data" (download, erase). All work without JavaScript.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csrfField } from '../accounts/csrf.ts';
import type { Locale } from '../config.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { pageContext, sendPage } from '../web/layout.ts';
import { asFrequency, asList, asSources, choiceFields } from './subscribers.form.ts';
import './subscribers.messages.ts';
import { countSubscribeAttempt } from './subscribers.rate-limit.ts';
import {
  confirmSubscription,
  consentText,
  eraseSubscriber,
  exportSubscriber,
  requestSubscription,
  requireSubscriber,
  unsubscribe,
  updatePreferences,
} from './subscribers.service.ts';
import { subscriberFromToken, tokenFor } from './tokens.ts';

const StrOrList = Type.Optional(
  Type.Union([Type.String({ maxLength: 200 }), Type.Array(Type.String({ maxLength: 200 }), { maxItems: 60 })]),
);
const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 600 })) });
const SubscribeBody = Type.Object({
  email: Type.String({ maxLength: 320 }),
  name: Type.Optional(Type.String({ maxLength: 300 })),
  frequency: Type.Optional(Type.String({ maxLength: 20 })),
  sources: StrOrList,
  networks: StrOrList,
  consent: Type.Optional(Type.String({ maxLength: 10 })),
  _csrf: Type.Optional(Type.String()),
});
const TokenBody = Type.Object({ token: Type.Optional(Type.String({ maxLength: 600 })), _csrf: Type.Optional(Type.String()) });
const PreferencesBody = Type.Object({
  token: Type.Optional(Type.String({ maxLength: 600 })),
  name: Type.Optional(Type.String({ maxLength: 300 })),
  language: Type.Optional(Type.String({ maxLength: 5 })),
  frequency: Type.Optional(Type.String({ maxLength: 20 })),
  sources: StrOrList,
  networks: StrOrList,
  _csrf: Type.Optional(Type.String()),
});
const HtmlPage = { 200: Type.String(), 400: Type.String(), 404: Type.String(), 410: Type.String(), 429: Type.String() };

function message(locale: Locale, error: unknown): string {
  if (!(error instanceof AppError)) throw error;
  const reason = (error.details as { reason?: string } | undefined)?.reason;
  return reason ? t(locale, reason) : error.message;
}

function errorPage(reply: FastifyReply, request: FastifyRequest, ctx: AppContext, error: unknown): FastifyReply {
  const { locale } = pageContext(request, ctx);
  const status = error instanceof AppError ? error.status : 500;
  return sendPage(reply, request, ctx, {
    title: t(locale, 'newsletter.title'),
    status,
    body: html`<h1>${t(locale, 'newsletter.title')}</h1><div role="alert" class="notice error"><p>${message(locale, error)}</p></div>
<p><a href="/newsletter">${t(locale, 'newsletter.subscribe')}</a></p>`,
  });
}

function manageLinks(locale: Locale, token: string): SafeHtml {
  const q = encodeURIComponent(token);
  return html`<nav aria-label="${t(locale, 'newsletter.links')}"><ul>
<li><a href="/newsletter/preferences?token=${q}">${t(locale, 'newsletter.preferences.title')}</a></li>
<li><a href="/newsletter/unsubscribe?token=${q}">${t(locale, 'newsletter.unsubscribe.title')}</a></li>
<li><a href="/newsletter/my-data?token=${q}">${t(locale, 'newsletter.mydata.title')}</a></li>
</ul></nav>`;
}

export async function subscriberPages(app: AppServer, ctx: AppContext): Promise<void> {
  // RFC 8058 allows the one-click POST as multipart/form-data; its body means nothing to us.
  if (!app.hasContentTypeParser('multipart/form-data')) {
    app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 4096 }, (_req, _body, done) => done(null, {}));
  }

  async function subscribeForm(request: FastifyRequest, reply: FastifyReply, error?: string, values?: Record<string, unknown>) {
    const { locale } = pageContext(request, ctx);
    const v = values ?? {};
    const chosen = {
      frequency: asFrequency(v.frequency as string | undefined),
      sources: values ? asSources(v.sources as string[]) : asSources(['network', 'national', 'resources']),
      networks: asList(v.networks as string[] | undefined),
    };
    return sendPage(reply, request, ctx, {
      title: t(locale, 'newsletter.title'),
      status: error ? Math.max(reply.statusCode, 400) : 200,
      body: html`<h1>${t(locale, 'newsletter.title')}</h1>
<p>${t(locale, 'newsletter.intro')}</p>
${error ? html`<div role="alert" class="notice error"><p>${error}</p></div>` : ''}
<form method="post" action="/newsletter">
${csrfField(request)}
<label for="f-email">${t(locale, 'newsletter.email')}</label>
<input id="f-email" name="email" type="email" autocomplete="email" required value="${String(v.email ?? '')}">
<label for="f-name">${t(locale, 'newsletter.name')}</label>
<input id="f-name" name="name" type="text" autocomplete="name" value="${String(v.name ?? '')}">
${await choiceFields(ctx.db, locale, chosen)}
<fieldset><legend>${t(locale, 'newsletter.consent')}</legend>
<div><input type="checkbox" id="f-consent" name="consent" value="yes" required> <label for="f-consent">${consentText(locale, ctx.config.instanceName)}</label></div>
</fieldset>
<p><a href="/privacy">${locale === 'fr' ? 'Données personnelles' : 'Privacy'}</a></p>
<button type="submit">${t(locale, 'newsletter.subscribe')}</button>
</form>`,
    });
  }

  app.get('/newsletter', { schema: { response: { 200: Type.String() } } }, async (request, reply) => subscribeForm(request, reply));

  app.post('/newsletter', { schema: { body: SubscribeBody, response: HtmlPage } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    const body = request.body;
    try {
      await countSubscribeAttempt(ctx, request.ip, body.email);
      await ctx.db.transaction().execute((trx) =>
        requestSubscription(
          ctx,
          trx,
          {
            email: body.email,
            name: body.name,
            language: locale,
            frequency: asFrequency(body.frequency),
            sources: asSources(body.sources),
            networks: asList(body.networks),
            consent: body.consent === 'yes' || body.consent === 'on',
          },
          'form',
        ),
      );
    } catch (error) {
      if (error instanceof AppError) reply.code(error.status as 400);
      return subscribeForm(request, reply, message(locale, error), body);
    }
    return sendPage(reply, request, ctx, {
      title: t(locale, 'newsletter.sent.title'),
      body: html`<h1>${t(locale, 'newsletter.sent.title')}</h1><p role="status">${t(locale, 'newsletter.sent.body')}</p>`,
    });
  });

  app.get('/newsletter/confirm', { schema: { querystring: TokenQuery, response: HtmlPage } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    try {
      await subscriberFromToken(ctx, request.query.token, 'confirm');
    } catch (error) {
      return errorPage(reply, request, ctx, error);
    }
    return sendPage(reply, request, ctx, {
      title: t(locale, 'newsletter.confirm.title'),
      body: html`<h1>${t(locale, 'newsletter.confirm.title')}</h1><p>${t(locale, 'newsletter.confirm.body')}</p>
<form method="post" action="/newsletter/confirm">${csrfField(request)}<input type="hidden" name="token" value="${request.query.token ?? ''}">
<button type="submit">${t(locale, 'newsletter.confirm.button')}</button></form>`,
    });
  });

  app.post('/newsletter/confirm', { schema: { body: TokenBody, response: HtmlPage } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    let manage: string;
    try {
      const id = await subscriberFromToken(ctx, request.body.token, 'confirm');
      await ctx.db.transaction().execute((trx) => confirmSubscription(ctx, trx, id));
      manage = await tokenFor(ctx, 'manage', id);
    } catch (error) {
      return errorPage(reply, request, ctx, error);
    }
    return sendPage(reply, request, ctx, {
      title: t(locale, 'newsletter.confirmed.title'),
      body: html`<h1>${t(locale, 'newsletter.confirmed.title')}</h1><p role="status">${t(locale, 'newsletter.confirmed.body')}</p>${manageLinks(locale, manage)}`,
    });
  });

  async function preferencesPage(request: FastifyRequest, reply: FastifyReply, token: string | undefined, saved: boolean) {
    const { locale } = pageContext(request, ctx);
    let s: Awaited<ReturnType<typeof requireSubscriber>>;
    try {
      s = await requireSubscriber(ctx.db, await subscriberFromToken(ctx, token, 'manage'));
    } catch (error) {
      return errorPage(reply, request, ctx, error);
    }
    return sendPage(reply, request, ctx, {
      title: t(locale, 'newsletter.preferences.title'),
      body: html`<h1>${t(locale, 'newsletter.preferences.title')}</h1>
${saved ? html`<p role="status" class="notice">${t(locale, 'newsletter.preferences.saved')}</p>` : ''}
<p>${s.email}</p>
<form method="post" action="/newsletter/preferences">${csrfField(request)}<input type="hidden" name="token" value="${token ?? ''}">
<label for="f-name">${t(locale, 'newsletter.name')}</label>
<input id="f-name" name="name" type="text" autocomplete="name" value="${s.name ?? ''}">
<label for="f-language">${t(locale, 'newsletter.language')}</label>
<select id="f-language" name="language"><option value="fr"${s.language === 'fr' ? html` selected` : ''}>Français</option><option value="en"${s.language === 'en' ? html` selected` : ''}>English</option></select>
${await choiceFields(ctx.db, locale, s)}
<button type="submit">${t(locale, 'newsletter.preferences.save')}</button>
</form>
${manageLinks(locale, token ?? '')}`,
    });
  }

  app.get('/newsletter/preferences', { schema: { querystring: TokenQuery, response: HtmlPage } }, async (request, reply) =>
    preferencesPage(request, reply, request.query.token, false),
  );

  app.post('/newsletter/preferences', { schema: { body: PreferencesBody, response: HtmlPage } }, async (request, reply) => {
    const b = request.body;
    try {
      const id = await subscriberFromToken(ctx, b.token, 'manage');
      await ctx.db.transaction().execute((trx) =>
        updatePreferences(trx, id, {
          name: b.name,
          language: b.language === 'en' ? 'en' : b.language === 'fr' ? 'fr' : undefined,
          frequency: asFrequency(b.frequency),
          sources: asSources(b.sources),
          networks: asList(b.networks),
        }),
      );
    } catch (error) {
      return errorPage(reply, request, ctx, error);
    }
    return preferencesPage(request, reply, b.token, true);
  });

  app.get('/newsletter/unsubscribe', { schema: { querystring: TokenQuery, response: HtmlPage } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    try {
      await subscriberFromToken(ctx, request.query.token, 'manage');
    } catch (error) {
      return errorPage(reply, request, ctx, error);
    }
    const q = encodeURIComponent(request.query.token ?? '');
    return sendPage(reply, request, ctx, {
      title: t(locale, 'newsletter.unsubscribe.title'),
      body: html`<h1>${t(locale, 'newsletter.unsubscribe.title')}</h1><p>${t(locale, 'newsletter.unsubscribe.body')}</p>
<form method="post" action="/newsletter/unsubscribe?token=${q}">${csrfField(request)}<button type="submit">${t(locale, 'newsletter.unsubscribe.button')}</button></form>
<p><a href="/newsletter/preferences?token=${q}">${t(locale, 'newsletter.preferences.title')}</a></p>`,
    });
  });

  // The one-click unsubscribe of RFC 8058 (mail programs POST `List-Unsubscribe=One-Click` here
  // without cookies) and the button of the page above.
  app.post(
    '/newsletter/unsubscribe',
    { schema: { querystring: TokenQuery, body: Type.Optional(Type.Any()), response: HtmlPage } },
    async (request, reply) => {
      const { locale } = pageContext(request, ctx);
      try {
        const id = await subscriberFromToken(ctx, request.query.token, 'manage');
        await ctx.db.transaction().execute((trx) => unsubscribe(trx, id, 'form'));
      } catch (error) {
        return errorPage(reply, request, ctx, error);
      }
      return sendPage(reply, request, ctx, {
        title: t(locale, 'newsletter.unsubscribed.title'),
        body: html`<h1>${t(locale, 'newsletter.unsubscribed.title')}</h1><p role="status">${t(locale, 'newsletter.unsubscribed.body')}</p>`,
      });
    },
  );

  app.get('/newsletter/my-data', { schema: { querystring: TokenQuery, response: HtmlPage } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    let email: string;
    try {
      email = (await requireSubscriber(ctx.db, await subscriberFromToken(ctx, request.query.token, 'manage'))).email;
    } catch (error) {
      return errorPage(reply, request, ctx, error);
    }
    const token = request.query.token ?? '';
    return sendPage(reply, request, ctx, {
      title: t(locale, 'newsletter.mydata.title'),
      body: html`<h1>${t(locale, 'newsletter.mydata.title')}</h1><p>${email}</p><p>${t(locale, 'newsletter.mydata.body')}</p>
<p><a href="/newsletter/my-data.json?token=${encodeURIComponent(token)}" download>${t(locale, 'newsletter.mydata.download')}</a></p>
<h2>${t(locale, 'newsletter.mydata.erase')}</h2><p>${t(locale, 'newsletter.mydata.eraseHint')}</p>
<form method="post" action="/newsletter/erase">${csrfField(request)}<input type="hidden" name="token" value="${token}">
<button type="submit" class="danger">${t(locale, 'newsletter.mydata.erase')}</button></form>`,
    });
  });

  app.get(
    '/newsletter/my-data.json',
    { schema: { querystring: TokenQuery, response: { 200: Type.Any(), 400: Type.Any(), 404: Type.Any() } } },
    async (request, reply) => {
      const id = await subscriberFromToken(ctx, request.query.token, 'manage');
      const data = await exportSubscriber(ctx.db, id);
      return reply
        .header('content-disposition', 'attachment; filename="mes-donnees-lettre.json"')
        .header('cache-control', 'no-store')
        .type('application/json; charset=utf-8')
        .send(JSON.stringify(data, null, 2));
    },
  );

  app.post('/newsletter/erase', { schema: { body: TokenBody, response: HtmlPage } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    try {
      const id = await subscriberFromToken(ctx, request.body.token, 'manage');
      await ctx.db.transaction().execute((trx) => eraseSubscriber(trx, id));
    } catch (error) {
      return errorPage(reply, request, ctx, error);
    }
    return sendPage(reply, request, ctx, {
      title: t(locale, 'newsletter.erased.title'),
      body: html`<h1>${t(locale, 'newsletter.erased.title')}</h1><p role="status">${t(locale, 'newsletter.erased.body')}</p>`,
    });
  });
}
