// Sign in, sign out, and the first-run setup page. Errors are shown in the form (role="alert"),
// with what was typed kept, except passwords.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { html } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { pageContext, sendPage } from '../web/layout.ts';
import './accounts.messages.ts';
import { authenticate } from './accounts.service.ts';
import { sessionIdOf } from './auth.plugin.ts';
import { csrfField, preparePreSessionCsrf, requirePreSessionCsrf } from './csrf.ts';
import { alertBox, field, formError, safeNext } from './form.ts';
import { normaliseEmail } from './passwords.ts';
import { clearLoginAttempts, countLoginAttempt } from './rate-limit.ts';
import { endSession, startSession } from './sessions.ts';
import { completeSetup, hasAdmin } from './setup.ts';

const PageHtml = Type.String({ description: 'HTML page' });

interface LoginState {
  email?: string;
  next?: string;
  error?: string;
  status?: number;
}

async function loginPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, state: LoginState = {}) {
  await preparePreSessionCsrf(ctx, request, reply);
  const { locale } = pageContext(request, ctx);
  const setupHint = (await hasAdmin(ctx))
    ? ''
    : html`<p class="notice">${t(locale, 'login.setupHint')} <a href="/setup">${t(locale, 'login.setupLink')}</a></p>`;
  const body = html`<h1>${t(locale, 'login.title')}</h1>
<p>${t(locale, 'login.intro')}</p>
${setupHint}
${alertBox(locale, state.error)}
<form method="post" action="/login" novalidate>
${csrfField(request)}
${state.next ? html`<input type="hidden" name="next" value="${state.next}">` : ''}
${field({ name: 'email', label: t(locale, 'login.email'), type: 'email', value: state.email, autocomplete: 'username' })}
${field({ name: 'password', label: t(locale, 'login.password'), type: 'password', autocomplete: 'current-password' })}
<button type="submit">${t(locale, 'login.submit')}</button>
</form>`;
  return sendPage(reply, request, ctx, { title: t(locale, 'login.title'), body, status: state.status });
}

interface SetupState {
  email?: string;
  displayName?: string;
  errors?: Record<string, string>;
  error?: string;
  status?: number;
}

async function setupPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, state: SetupState = {}) {
  const { locale } = pageContext(request, ctx);
  if (await hasAdmin(ctx)) {
    const body = html`<h1>${t(locale, 'setup.title')}</h1><p>${t(locale, 'setup.done')} <a href="/login">${t(locale, 'setup.doneLink')}</a></p>`;
    return sendPage(reply, request, ctx, { title: t(locale, 'setup.title'), body, status: 410 });
  }
  await preparePreSessionCsrf(ctx, request, reply);
  const e = state.errors ?? {};
  const body = html`<h1>${t(locale, 'setup.title')}</h1>
<p>${t(locale, 'setup.intro')}</p>
${alertBox(locale, state.error)}
<form method="post" action="/setup" novalidate>
${csrfField(request)}
${field({ name: 'code', label: t(locale, 'setup.code'), error: e.code, autocomplete: 'off' })}
${field({ name: 'email', label: t(locale, 'setup.email'), type: 'email', value: state.email, error: e.email, autocomplete: 'username' })}
${field({ name: 'displayName', label: t(locale, 'setup.name'), value: state.displayName, error: e.displayName, autocomplete: 'name', required: false })}
${field({ name: 'password', label: t(locale, 'setup.password'), type: 'password', error: e.password, autocomplete: 'new-password' })}
${field({ name: 'password2', label: t(locale, 'setup.password2'), type: 'password', error: e.password2, autocomplete: 'new-password' })}
<button type="submit">${t(locale, 'setup.submit')}</button>
</form>`;
  return sendPage(reply, request, ctx, { title: t(locale, 'setup.title'), body, status: state.status });
}

export async function registerAccountPages(app: AppServer, ctx: AppContext): Promise<void> {
  app.get(
    '/login',
    { schema: { querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 2000 })) }), response: { 200: PageHtml } } },
    async (request, reply) => {
      const next = safeNext(request.query.next);
      if (request.user) return reply.redirect(next ?? '/admin', 303);
      return loginPage(ctx, request, reply, { next });
    },
  );

  app.post(
    '/login',
    {
      schema: {
        body: Type.Object({
          email: Type.String({ maxLength: 320 }),
          password: Type.String({ maxLength: 1000 }),
          next: Type.Optional(Type.String({ maxLength: 2000 })),
          _csrf: Type.Optional(Type.String()),
        }),
      },
      preHandler: requirePreSessionCsrf(ctx),
    },
    async (request, reply) => {
      const { locale } = pageContext(request, ctx);
      const { password } = request.body;
      const email = normaliseEmail(request.body.email);
      const next = safeNext(request.body.next);
      if (!email || !password) return loginPage(ctx, request, reply, { email, next, error: t(locale, 'login.missing'), status: 400 });
      try {
        await countLoginAttempt(ctx, request.ip, email);
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'rate_limited') throw error;
        const { retryAfterMinutes } = error.details as { retryAfterMinutes: number };
        reply.header('retry-after', String(retryAfterMinutes * 60));
        return loginPage(ctx, request, reply, {
          email,
          next,
          error: t(locale, 'login.tooMany', { minutes: retryAfterMinutes }),
          status: 429,
        });
      }
      const user = await authenticate(ctx.db, email, password);
      if (!user) return loginPage(ctx, request, reply, { email, next, error: t(locale, 'login.failed'), status: 401 });
      await clearLoginAttempts(ctx, request.ip, email);
      await endSession(ctx, reply, sessionIdOf(request));
      await startSession(ctx, reply, user.id);
      return reply.redirect(next ?? '/admin', 303);
    },
  );

  // The layout's logout form carries only the CSRF token; a same-origin request without a body is
  // accepted too (see auth.plugin.ts), so the body is optional.
  app.post(
    '/logout',
    // A request without a body is validated as null (Fastify), hence the union.
    { schema: { hide: true, body: Type.Union([Type.Object({ _csrf: Type.Optional(Type.String({ maxLength: 200 })) }), Type.Null()]) } },
    async (request, reply) => {
      await endSession(ctx, reply, sessionIdOf(request));
      return reply.redirect('/', 303);
    },
  );

  app.get('/setup', { schema: { response: { 200: PageHtml, 410: PageHtml } } }, async (request, reply) => setupPage(ctx, request, reply));

  app.post(
    '/setup',
    {
      schema: {
        body: Type.Object({
          code: Type.String({ maxLength: 100 }),
          email: Type.String({ maxLength: 320 }),
          displayName: Type.Optional(Type.String({ maxLength: 200 })),
          password: Type.String({ maxLength: 1000 }),
          password2: Type.String({ maxLength: 1000 }),
          _csrf: Type.Optional(Type.String()),
        }),
      },
      preHandler: requirePreSessionCsrf(ctx),
    },
    async (request, reply) => {
      const { locale } = pageContext(request, ctx);
      const { code, email, displayName, password, password2 } = request.body;
      const kept = { email, displayName };
      if (await hasAdmin(ctx)) return setupPage(ctx, request, reply);
      if (password !== password2) {
        const message = t(locale, 'setup.error.mismatch');
        return setupPage(ctx, request, reply, { ...kept, error: message, errors: { password2: message }, status: 400 });
      }
      try {
        // The code is long and random; the counter still stops anyone hammering the form.
        await countLoginAttempt(ctx, request.ip, `setup:${request.ip}`);
        const user = await completeSetup(ctx, code, { email, password, displayName });
        await startSession(ctx, reply, user.id);
        ctx.log.info('first administrator created');
        return reply.redirect('/admin', 303);
      } catch (error) {
        if (error instanceof AppError && error.code === 'gone') return setupPage(ctx, request, reply);
        const { field: name, message } = formError(locale, error);
        const status = error instanceof AppError ? error.status : 400;
        return setupPage(ctx, request, reply, { ...kept, error: message, errors: name ? { [name]: message } : {}, status });
      }
    },
  );
}
