// Member pages: sign in by an emailed link (no password), the link's page (a button that POSTs:
// opening a link, which mail scanners do, never signs anyone in), signing out, and "my space":
// display name, my groups, my data (download as JSON, or erase after a confirmation).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csrfField, preparePreSessionCsrf, requirePreSessionCsrf } from '../accounts/csrf.ts';
import { field } from '../accounts/form.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { PAGE_RESPONSE, pageContext, sendPage } from '../web/layout.ts';
import { localPath } from '../web/local-path.ts';
import { doneMessage, groupPath, viewerOf, withDone } from './discussions.access.ts';
import { findGroupById } from './groups.repository.ts';
import { endMemberSession, memberOf, memberSessionIdOf, requireMember, startMemberSession } from './member-auth.ts';
import { updateMemberProfile } from './members.repository.ts';
import { confirmSignIn, eraseMemberData, exportMemberData, isSignInLinkLive, requestSignInLink } from './members.service.ts';
import { listMembershipsOfMember } from './memberships.repository.ts';

const Next = Type.Optional(Type.String({ maxLength: 500 }));
const TokenParams = Type.Object({ token: Type.String({ pattern: '^[A-Za-z0-9_-]{20,100}$' }) });
const HEAD = html`<link rel="stylesheet" href="/static/discussions.css">`;

function signInForm(request: FastifyRequest, locale: 'fr' | 'en', next: string | undefined, error?: string, email?: string): SafeHtml {
  return html`<form method="post" action="/members/sign-in" novalidate>${csrfField(request)}
${next ? html`<input type="hidden" name="next" value="${next}">` : ''}
${field({ name: 'email', label: t(locale, 'dm.email'), type: 'email', autocomplete: 'email', ...(email !== undefined ? { value: email } : {}), ...(error ? { error } : {}) })}
<button type="submit">${t(locale, 'dm.send')}</button>
</form>`;
}

async function signInPage(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { next?: string; done?: string; error?: string; email?: string; status?: number },
) {
  await preparePreSessionCsrf(ctx, request, reply);
  const { locale } = pageContext(request, ctx);
  const body = html`${doneMessage(locale, options.done)}
<h1>${t(locale, 'dm.signInTitle')}</h1>
<p>${t(locale, 'dm.signInIntro')}</p>
${signInForm(request, locale, options.next, options.error, options.email)}
<p class="muted"><a href="/login${options.next ? `?next=${encodeURIComponent(options.next)}` : ''}">${t(locale, 'dm.staff')}</a></p>`;
  return sendPage(reply, request, ctx, {
    title: t(locale, 'dm.signInTitle'),
    head: HEAD,
    body,
    ...(options.status ? { status: options.status } : {}),
  });
}

export async function registerMemberPages(app: AppServer, ctx: AppContext): Promise<void> {
  app.get(
    '/members/sign-in',
    { schema: { querystring: Type.Object({ next: Next, done: Type.Optional(Type.String({ maxLength: 20 })) }), response: PAGE_RESPONSE } },
    async (request, reply) => {
      const next = localPath(request.query.next);
      if (viewerOf(request, ctx).signedIn && request.query.done === undefined) return reply.redirect(next ?? '/members/me', 303);
      return signInPage(ctx, request, reply, { ...(next ? { next } : {}), ...(request.query.done ? { done: request.query.done } : {}) });
    },
  );

  app.post(
    '/members/sign-in',
    {
      preHandler: requirePreSessionCsrf(ctx),
      schema: { body: Type.Object({ _csrf: Type.Optional(Type.String()), email: Type.String({ maxLength: 320 }), next: Next }) },
    },
    async (request, reply) => {
      const { locale } = pageContext(request, ctx);
      const next = localPath(request.body.next);
      const email = request.body.email.trim();
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
        return signInPage(ctx, request, reply, { ...(next ? { next } : {}), email, error: t(locale, 'dm.emailInvalid'), status: 400 });
      }
      try {
        await requestSignInLink(ctx, { email, locale, client: request.ip, ...(next ? { next } : {}) });
      } catch (error) {
        if (error instanceof AppError && (error.code === 'rate_limited' || error.code === 'validation_failed')) {
          const message = error.code === 'rate_limited' ? t(locale, 'error.rateLimited') : t(locale, 'dm.emailInvalid');
          return signInPage(ctx, request, reply, { ...(next ? { next } : {}), email, error: message, status: error.status });
        }
        throw error;
      }
      return reply.redirect(`/members/sign-in?done=sent${next ? `&next=${encodeURIComponent(next)}` : ''}`, 303);
    },
  );

  // The link from the email: a page with a button. Only the POST signs in.
  app.get(
    '/members/sign-in/:token',
    { schema: { params: TokenParams, querystring: Type.Object({ next: Next }), response: PAGE_RESPONSE } },
    async (request, reply) => {
      await preparePreSessionCsrf(ctx, request, reply);
      const { locale } = pageContext(request, ctx);
      const next = localPath(request.query.next);
      if (!(await isSignInLinkLive(ctx, request.params.token))) {
        return sendPage(reply, request, ctx, {
          title: t(locale, 'dm.confirmTitle'),
          status: 410,
          head: HEAD,
          body: html`<h1>${t(locale, 'dm.confirmTitle')}</h1><p role="alert">${t(locale, 'dm.invalid')}</p><p><a href="/members/sign-in">${t(locale, 'dm.again')}</a></p>`,
        });
      }
      reply.header('referrer-policy', 'no-referrer');
      const body = html`<h1>${t(locale, 'dm.confirmTitle')}</h1>
<p>${t(locale, 'dm.confirmIntro')}</p>
<form method="post" action="/members/sign-in/${request.params.token}">${csrfField(request)}
${next ? html`<input type="hidden" name="next" value="${next}">` : ''}
<button type="submit">${t(locale, 'dm.confirm')}</button>
</form>`;
      return sendPage(reply, request, ctx, { title: t(locale, 'dm.confirmTitle'), head: HEAD, body });
    },
  );

  app.post(
    '/members/sign-in/:token',
    {
      preHandler: requirePreSessionCsrf(ctx),
      schema: { params: TokenParams, body: Type.Object({ _csrf: Type.Optional(Type.String()), next: Next }) },
    },
    async (request, reply) => {
      const { locale } = pageContext(request, ctx);
      const member = await confirmSignIn(ctx, request.params.token);
      if (!member) {
        return sendPage(reply, request, ctx, {
          title: t(locale, 'dm.confirmTitle'),
          status: 410,
          head: HEAD,
          body: html`<h1>${t(locale, 'dm.confirmTitle')}</h1><p role="alert">${t(locale, 'dm.invalid')}</p><p><a href="/members/sign-in">${t(locale, 'dm.again')}</a></p>`,
        });
      }
      await startMemberSession(ctx, reply, member.id);
      return reply.redirect(localPath(request.body.next) ?? '/members/me', 303);
    },
  );

  app.post('/members/sign-out', { schema: { body: Type.Object({ _csrf: Type.Optional(Type.String()) }) } }, async (request, reply) => {
    await endMemberSession(ctx, request, reply);
    return reply.redirect(withDone('/members/sign-in', 'signedout'), 303);
  });

  app.get(
    '/members/me',
    { schema: { querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })) }), response: PAGE_RESPONSE } },
    async (request, reply) => {
      const viewer = viewerOf(request, ctx);
      if (!viewer.signedIn) return reply.redirect('/members/sign-in?next=%2Fmembers%2Fme', 303);
      const { locale } = viewer;
      const member = viewer.member;
      // A staff user gets a member identity when they first take part (a POST), not by looking here.
      if (!member) {
        return sendPage(reply, request, ctx, {
          title: t(locale, 'dm.meTitle'),
          head: HEAD,
          body: html`<h1>${t(locale, 'dm.meTitle')}</h1><p>${t(locale, 'dm.staffMe')}</p><p><a href="/groups">${t(locale, 'dg.title')}</a></p>`,
        });
      }
      const host = new URL(ctx.config.publicUrl).host;
      const memberships = await listMembershipsOfMember(ctx.db, member.id);
      const groups = await Promise.all(memberships.map(async (m) => ({ m, group: await findGroupById(ctx.db, m.group_id) })));
      const csrf = csrfField(request);
      const body = html`${doneMessage(locale, request.query.done)}
<h1>${t(locale, 'dm.meTitle')}</h1>
<p>${t(locale, 'dm.meIntro', { email: member.email })}</p>
<p>${t(locale, 'dm.identity', { handle: `@${member.username}@${host}` })}</p>
${viewer.staff ? html`<p class="muted">${t(locale, 'dm.staffMe')}</p>` : ''}
<form method="post" action="/members/me">${csrf}
${field({ name: 'displayName', label: t(locale, 'dm.displayName'), value: member.display_name ?? '', required: false, hint: t(locale, 'dm.displayNameHint'), autocomplete: 'nickname' })}
<button type="submit">${t(locale, 'dm.save')}</button>
</form>
<section aria-labelledby="my-groups"><h2 id="my-groups">${t(locale, 'dm.myGroups')}</h2>
${
  groups.length === 0
    ? html`<p class="muted">${t(locale, 'dm.noGroups')} <a href="/groups">${t(locale, 'dg.title')}</a></p>`
    : html`<ul>${groups.map(({ m, group }) => html`<li>${group ? html`<a href="${groupPath(group)}">${m.group_name}</a>` : m.group_name}${m.status === 'pending' ? html` <span class="muted">(${t(locale, 'dg.pending')})</span>` : ''}</li>`)}</ul>`
}
</section>
<section aria-labelledby="my-data"><h2 id="my-data">${t(locale, 'dm.myData')}</h2>
<p>${t(locale, 'dm.exportHint')}</p>
<p><a href="/members/me/export" download>${t(locale, 'dm.export')}</a></p>
<h3>${t(locale, 'dm.erase')}</h3>
<p>${t(locale, 'dm.eraseHint')}</p>
<form method="post" action="/members/me/erase">${csrf}
<p><input type="checkbox" id="f-confirm" name="confirm" value="yes" required> <label for="f-confirm" class="inline-label">${t(locale, 'dm.eraseConfirm')}</label></p>
<button type="submit" class="danger">${t(locale, 'dm.eraseSubmit')}</button>
</form>
</section>
${memberSessionIdOf(request) ? html`<form method="post" action="/members/sign-out">${csrf}<button type="submit">${t(locale, 'dm.signOut')}</button></form>` : ''}`;
      return sendPage(reply, request, ctx, { title: t(locale, 'dm.meTitle'), head: HEAD, body });
    },
  );

  app.post(
    '/members/me',
    { schema: { body: Type.Object({ _csrf: Type.Optional(Type.String()), displayName: Type.String({ maxLength: 80 }) }) } },
    async (request, reply) => {
      const member = await requireMember(ctx, request);
      await updateMemberProfile(ctx.db, member.id, { displayName: request.body.displayName });
      return reply.redirect(withDone('/members/me', 'saved'), 303);
    },
  );

  app.get('/members/me/export', { schema: { response: { 200: Type.Unknown() } } }, async (request, reply) => {
    const member = memberOf(request);
    if (!member) throw new AppError('unauthorized', 'Sign in to download your data.');
    const data = await exportMemberData(ctx, member);
    return reply
      .header('cache-control', 'private, no-store')
      .header('content-disposition', 'attachment; filename="mes-donnees.json"')
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(data, null, 2));
  });

  app.post(
    '/members/me/erase',
    { schema: { body: Type.Object({ _csrf: Type.Optional(Type.String()), confirm: Type.Optional(Type.String({ maxLength: 10 })) }) } },
    async (request, reply) => {
      const member = await requireMember(ctx, request);
      if (request.body.confirm !== 'yes') return reply.redirect('/members/me', 303);
      await eraseMemberData(ctx, member);
      await endMemberSession(ctx, request, reply);
      return reply.redirect(withDone('/members/sign-in', 'erased'), 303);
    },
  );
}
