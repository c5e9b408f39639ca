// Pages of following a group by email: the form (on its own page, `<group page>/email`, and as a
// fragment the group page can show), the confirmation (a GET shows a button, only the POST
// changes anything: mail scanners follow links) and the unsubscribe page, whose POST is also the
// RFC 8058 one-click target. All work without JavaScript.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csrfField } from '../accounts/csrf.ts';
import type { Locale } from '../config.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { countSubscribeAttempt } from '../subscribers/subscribers.rate-limit.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { PAGE_RESPONSE, pageContext, sendPage } from '../web/layout.ts';
import { isAcceptedMemberEmail } from './digest.repository.ts';
import { confirmFollow, digestConsentText, requestFollow, stopFollow } from './digest.service.ts';
import { fromDigestToken } from './digest.tokens.ts';
import { groupPath, sendNotFound } from './discussions.access.ts';
import { findGroupById, findLocalGroupByUsername, type GroupRow } from './groups.repository.ts';
import { memberOf } from './member-auth.ts';
import './digest.messages.ts';

const USERNAME = Type.String({ pattern: '^[a-z0-9_]{1,30}$' });
const UUID = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const FollowBody = Type.Object({
  email: Type.Optional(Type.String({ maxLength: 320 })),
  consent: Type.Optional(Type.String({ maxLength: 10 })),
  _csrf: Type.Optional(Type.String()),
});
const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 600 })) });
const TokenBody = Type.Object({ token: Type.Optional(Type.String({ maxLength: 600 })), _csrf: Type.Optional(Type.String()) });
const HtmlPage = { ...PAGE_RESPONSE, 400: Type.String(), 404: Type.String(), 410: Type.String(), 429: Type.String() };

function messageOf(locale: Locale, error: unknown): string {
  if (!(error instanceof AppError)) throw error;
  const reason = (error.details as { reason?: string } | undefined)?.reason;
  return reason ? t(locale, reason) : error.message;
}

/** The path of the follow-by-email page of a group. */
export function digestFormPath(group: Pick<GroupRow, 'id' | 'origin' | 'username'>): string {
  return `${groupPath(group)}/email`;
}

/**
 * The form, for the group page: anyone may follow a public group; a members-only group's form is
 * shown only to its accepted members (and sends to their member address). Empty otherwise.
 */
export async function digestFollowForm(
  request: FastifyRequest,
  ctx: AppContext,
  group: GroupRow,
  options: { error?: string; standalone?: boolean } = {},
): Promise<SafeHtml> {
  const { error, standalone = false } = options;
  const { locale } = pageContext(request, ctx);
  const member = memberOf(request);
  if (group.visibility === 'members' && !(member && (await isAcceptedMemberEmail(ctx.db, group.id, member.email)))) return html``;
  const id = `digest-${group.id.slice(0, 8)}`;
  const email =
    group.visibility === 'members'
      ? html`<p>${t(locale, 'digest.emailMember')}</p>`
      : html`<label for="${id}-email">${t(locale, 'digest.email')}</label>
<input id="${id}-email" name="email" type="email" autocomplete="email" required value="${member?.email ?? ''}">`;
  // On its own page the page's h1 is the title; on the group page it is a section of its own.
  const heading = standalone
    ? html`<h1 id="${id}-title">${t(locale, 'digest.title')}</h1>`
    : html`<h2 id="${id}-title">${t(locale, 'digest.title')}</h2>`;
  return html`<section class="digest-follow" aria-labelledby="${id}-title">
${heading}
<p>${t(locale, 'digest.intro', { group: group.name })}</p>
${error ? html`<div role="alert" class="notice error"><p>${error}</p></div>` : ''}
<form method="post" action="${digestFormPath(group)}">
${csrfField(request)}
${email}
<fieldset><legend>${t(locale, 'digest.consent')}</legend>
<div><input type="checkbox" id="${id}-consent" name="consent" value="yes" required> <label for="${id}-consent">${digestConsentText(locale, group, ctx.config.instanceName)}</label></div>
</fieldset>
<button type="submit">${t(locale, 'digest.submit')}</button>
</form>
</section>`;
}

export async function registerDigestPages(app: AppServer, ctx: AppContext): Promise<void> {
  // RFC 8058 allows the one-click POST as multipart/form-data; its body means nothing to us.
  if (!app.hasContentTypeParser('multipart/form-data')) {
    app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 4096 }, (_req, _body, done) => done(null, {}));
  }

  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: SafeHtml, status = 200) =>
    sendPage(reply, request, ctx, { title, body: html`<h1>${title}</h1>${body}`, status });
  const failed = (request: FastifyRequest, reply: FastifyReply, error: unknown) => {
    const { locale } = pageContext(request, ctx);
    const status = error instanceof AppError ? error.status : 500;
    return page(
      request,
      reply,
      t(locale, 'digest.title'),
      html`<div role="alert" class="notice error"><p>${messageOf(locale, error)}</p></div>`,
      status,
    );
  };

  const byUsername = (request: FastifyRequest) => findLocalGroupByUsername(ctx.db, (request.params as { username: string }).username);
  const byId = (request: FastifyRequest) => findGroupById(ctx.db, (request.params as { id: string }).id);
  for (const [prefix, params, find] of [
    ['/groups/:username/email', Type.Object({ username: USERNAME }), byUsername],
    ['/discussions/groups/:id/email', Type.Object({ id: UUID }), byId],
  ] as const) {
    app.get(prefix, { schema: { params, response: HtmlPage } }, async (request, reply) => {
      const group = await find(request);
      const form = group ? await digestFollowForm(request, ctx, group, { standalone: true }) : html``;
      // Members-only groups are not revealed to outsiders: the same 404 as an unknown group.
      if (!group || form.toString() === '') return sendNotFound(request, reply, ctx);
      const { locale } = pageContext(request, ctx);
      return sendPage(reply, request, ctx, {
        title: `${t(locale, 'digest.title')} — ${group.name}`,
        body: html`${form}<p><a href="${groupPath(group)}">${group.name}</a></p>`,
      });
    });

    app.post(prefix, { schema: { params, body: FollowBody, response: HtmlPage } }, async (request, reply) => {
      const group = await find(request);
      if (!group) return sendNotFound(request, reply, ctx);
      const { locale } = pageContext(request, ctx);
      // A members-only group's digest goes to the member's own address, never to a typed one.
      const email = group.visibility === 'members' ? memberOf(request)?.email : request.body.email;
      try {
        if (!email) throw new AppError('not_found', 'No such group.');
        await countSubscribeAttempt(ctx, request.ip, email);
        await ctx.db.transaction().execute((trx) =>
          requestFollow(ctx, trx, {
            groupId: group.id,
            email,
            locale,
            consent: request.body.consent === 'yes' || request.body.consent === 'on',
          }),
        );
      } catch (error) {
        if (error instanceof AppError && error.code === 'not_found') return sendNotFound(request, reply, ctx);
        if (!(error instanceof AppError)) throw error;
        reply.code(error.status as 400);
        return sendPage(reply, request, ctx, {
          title: `${t(locale, 'digest.title')} — ${group.name}`,
          status: error.status,
          body: html`${await digestFollowForm(request, ctx, group, { error: messageOf(locale, error), standalone: true })}<p><a href="${groupPath(group)}">${group.name}</a></p>`,
        });
      }
      return page(request, reply, t(locale, 'digest.sent.title'), html`<p role="status">${t(locale, 'digest.sent.body')}</p>`);
    });
  }

  app.get('/discussions/digest/confirm', { schema: { querystring: TokenQuery, response: HtmlPage } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    let group: GroupRow | undefined;
    try {
      group = await findGroupById(ctx.db, (await fromDigestToken(ctx, request.query.token, 'confirm')).groupId);
      if (!group) throw new AppError('not_found', 'This follow no longer exists.', { reason: 'digest.link.unknown' });
    } catch (error) {
      return failed(request, reply, error);
    }
    return page(
      request,
      reply,
      t(locale, 'digest.confirm.title'),
      html`<p>${t(locale, 'digest.confirm.body', { group: group.name })}</p>
<form method="post" action="/discussions/digest/confirm">${csrfField(request)}<input type="hidden" name="token" value="${request.query.token ?? ''}">
<button type="submit">${t(locale, 'digest.confirm.button')}</button></form>`,
    );
  });

  app.post('/discussions/digest/confirm', { schema: { body: TokenBody, response: HtmlPage } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    let group: GroupRow;
    try {
      const link = await fromDigestToken(ctx, request.body.token, 'confirm');
      group = await ctx.db.transaction().execute((trx) => confirmFollow(ctx, trx, link.subscriberId, link.groupId));
    } catch (error) {
      return failed(request, reply, error);
    }
    return page(
      request,
      reply,
      t(locale, 'digest.confirmed.title'),
      html`<p role="status">${t(locale, 'digest.confirmed.body', { group: group.name })}</p><p><a href="${groupPath(group)}">${group.name}</a></p>`,
    );
  });

  app.get('/discussions/digest/unsubscribe', { schema: { querystring: TokenQuery, response: HtmlPage } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    let name = '';
    try {
      const link = await fromDigestToken(ctx, request.query.token, 'stop');
      name = (await findGroupById(ctx.db, link.groupId))?.name ?? '';
    } catch (error) {
      return failed(request, reply, error);
    }
    const q = encodeURIComponent(request.query.token ?? '');
    return page(
      request,
      reply,
      t(locale, 'digest.stop.title'),
      html`<p>${t(locale, 'digest.stop.body', { group: name })}</p>
<form method="post" action="/discussions/digest/unsubscribe?token=${q}">${csrfField(request)}<button type="submit">${t(locale, 'digest.stop.button')}</button></form>`,
    );
  });

  // The one-click unsubscribe of RFC 8058 (mail programs POST `List-Unsubscribe=One-Click` here,
  // without cookies) and the button of the page above.
  app.post(
    '/discussions/digest/unsubscribe',
    { schema: { querystring: TokenQuery, body: Type.Optional(Type.Any()), response: HtmlPage } },
    async (request, reply) => {
      const { locale } = pageContext(request, ctx);
      try {
        const link = await fromDigestToken(ctx, request.query.token, 'stop');
        await ctx.db.transaction().execute((trx) => stopFollow(trx, link.subscriberId, link.groupId));
      } catch (error) {
        return failed(request, reply, error);
      }
      return page(request, reply, t(locale, 'digest.stopped.title'), html`<p role="status">${t(locale, 'digest.stopped.body')}</p>`);
    },
  );
}
