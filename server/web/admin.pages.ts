// The staff area: the admin home (entries added by each capability with addAdminLink), my API
// tokens (create: shown once; revoke), and for admins the staff accounts. Every form has CSRF.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { createApiToken, createUser, listApiTokens, listUsers, revokeApiToken } from '../accounts/accounts.service.ts';
import { csrfField } from '../accounts/csrf.ts';
import { alertBox, field, formError } from '../accounts/form.ts';
import { hasRole, requireRole } from '../accounts/guards.ts';
import { forgetSetupCodes } from '../accounts/setup.ts';
import '../accounts/accounts.messages.ts';
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { addAdminLink, adminLinks } from './admin-links.ts';
import { html } from './html.ts';
import { addMessages, t } from './i18n.ts';
import { PAGE_RESPONSE, pageContext, sendPage } from './layout.ts';

addMessages({
  fr: {
    'admin.title': 'Administration',
    'admin.hello': 'Bonjour {name}.',
    'admin.apiDocs': 'Documentation de l’API',
    'tokens.title': 'Mes jetons d’API',
    'tokens.intro': 'Un jeton d’API permet à un programme d’agir en votre nom (en-tête Authorization: Bearer).',
    'tokens.name': 'Nom du jeton (à quoi il sert)',
    'tokens.create': 'Créer un jeton',
    'tokens.created': 'Voici votre nouveau jeton. Copiez-le maintenant : il ne sera plus jamais affiché.',
    'tokens.none': 'Aucun jeton pour l’instant.',
    'tokens.revoke': 'Révoquer',
    'tokens.revoked': 'révoqué',
    'tokens.active': 'actif',
    'tokens.colName': 'Nom',
    'tokens.colPrefix': 'Début',
    'tokens.colCreated': 'Créé le',
    'tokens.colUsed': 'Dernière utilisation',
    'tokens.colState': 'État',
    'tokens.colAction': 'Action',
    'users.title': 'Comptes de l’équipe',
    'users.add': 'Ajouter un compte',
    'users.added': 'Le compte a été créé. Transmettez le mot de passe provisoire à la personne.',
    'users.email': 'Adresse e-mail',
    'users.name': 'Nom affiché',
    'users.role': 'Rôle',
    'users.password': 'Mot de passe provisoire (10 caractères au moins)',
    'users.colCreated': 'Créé le',
  },
  en: {
    'admin.title': 'Administration',
    'admin.hello': 'Hello {name}.',
    'admin.apiDocs': 'API documentation',
    'tokens.title': 'My API tokens',
    'tokens.intro': 'An API token lets a program act on your behalf (Authorization: Bearer header).',
    'tokens.name': 'Token name (what it is for)',
    'tokens.create': 'Create a token',
    'tokens.created': 'Here is your new token. Copy it now: it will never be shown again.',
    'tokens.none': 'No token yet.',
    'tokens.revoke': 'Revoke',
    'tokens.revoked': 'revoked',
    'tokens.active': 'active',
    'tokens.colName': 'Name',
    'tokens.colPrefix': 'Starts with',
    'tokens.colCreated': 'Created',
    'tokens.colUsed': 'Last used',
    'tokens.colState': 'State',
    'tokens.colAction': 'Action',
    'users.title': 'Team accounts',
    'users.add': 'Add an account',
    'users.added': 'The account was created. Give the temporary password to the person.',
    'users.email': 'Email address',
    'users.name': 'Display name',
    'users.role': 'Role',
    'users.password': 'Temporary password (at least 10 characters)',
    'users.colCreated': 'Created',
  },
});

addAdminLink({ href: '/admin/tokens', label: { fr: 'Mes jetons d’API', en: 'My API tokens' }, role: 'editor' });
addAdminLink({ href: '/admin/users', label: { fr: 'Comptes de l’équipe', en: 'Team accounts' }, role: 'admin' });

const date = (d: Date | null, locale: string) => (d ? d.toLocaleDateString(locale === 'fr' ? 'fr-FR' : 'en-GB') : '—');

async function tokensPage(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  state: { created?: string; error?: string; status?: number } = {},
) {
  const { locale } = pageContext(request, ctx);
  const tokens = await listApiTokens(ctx.db, request.user!.id);
  const rows = tokens.map(
    (tk) => html`<tr>
<td>${tk.name}</td><td><code>${tk.prefix}…</code></td><td>${date(tk.createdAt, locale)}</td><td>${date(tk.lastUsedAt, locale)}</td>
<td>${tk.revokedAt ? t(locale, 'tokens.revoked') : t(locale, 'tokens.active')}</td>
<td>${tk.revokedAt ? '' : html`<form method="post" action="/admin/tokens/${tk.id}/revoke" class="inline">${csrfField(request)}<button type="submit" aria-label="${t(locale, 'tokens.revoke')} ${tk.name}">${t(locale, 'tokens.revoke')}</button></form>`}</td>
</tr>`,
  );
  const body = html`<h1>${t(locale, 'tokens.title')}</h1>
<p>${t(locale, 'tokens.intro')}</p>
${state.created ? html`<div class="notice" role="status"><p>${t(locale, 'tokens.created')}</p><p><code id="new-token">${state.created}</code></p></div>` : ''}
${alertBox(locale, state.error)}
${
  tokens.length === 0
    ? html`<p>${t(locale, 'tokens.none')}</p>`
    : html`<table><thead><tr><th scope="col">${t(locale, 'tokens.colName')}</th><th scope="col">${t(locale, 'tokens.colPrefix')}</th><th scope="col">${t(locale, 'tokens.colCreated')}</th><th scope="col">${t(locale, 'tokens.colUsed')}</th><th scope="col">${t(locale, 'tokens.colState')}</th><th scope="col">${t(locale, 'tokens.colAction')}</th></tr></thead><tbody>${rows}</tbody></table>`
}
<h2>${t(locale, 'tokens.create')}</h2>
<form method="post" action="/admin/tokens">
${csrfField(request)}
${field({ name: 'name', label: t(locale, 'tokens.name'), autocomplete: 'off' })}
<button type="submit">${t(locale, 'tokens.create')}</button>
</form>`;
  return sendPage(reply, request, ctx, { title: t(locale, 'tokens.title'), body, status: state.status });
}

interface UsersState {
  added?: boolean;
  values?: { email?: string; displayName?: string; role?: string };
  errors?: Record<string, string>;
  error?: string;
  status?: number;
}

async function usersPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, state: UsersState = {}) {
  const { locale } = pageContext(request, ctx);
  const users = await listUsers(ctx.db);
  const v = state.values ?? {};
  const e = state.errors ?? {};
  const body = html`<h1>${t(locale, 'users.title')}</h1>
${state.added ? html`<p class="notice" role="status">${t(locale, 'users.added')}</p>` : ''}
<table><thead><tr><th scope="col">${t(locale, 'users.email')}</th><th scope="col">${t(locale, 'users.name')}</th><th scope="col">${t(locale, 'users.role')}</th><th scope="col">${t(locale, 'users.colCreated')}</th></tr></thead>
<tbody>${users.map((u) => html`<tr><td>${u.email}</td><td>${u.displayName ?? ''}</td><td>${t(locale, `role.${u.role}`)}</td><td>${date(u.createdAt, locale)}</td></tr>`)}</tbody></table>
<h2>${t(locale, 'users.add')}</h2>
${alertBox(locale, state.error)}
<form method="post" action="/admin/users" novalidate>
${csrfField(request)}
${field({ name: 'email', label: t(locale, 'users.email'), type: 'email', value: v.email, error: e.email, autocomplete: 'off' })}
${field({ name: 'displayName', label: t(locale, 'users.name'), value: v.displayName, error: e.displayName, required: false, autocomplete: 'off' })}
<label for="f-role">${t(locale, 'users.role')}</label>
<select id="f-role" name="role">
<option value="editor"${v.role !== 'admin' ? html` selected` : ''}>${t(locale, 'role.editor')}</option>
<option value="admin"${v.role === 'admin' ? html` selected` : ''}>${t(locale, 'role.admin')}</option>
</select>
${field({ name: 'password', label: t(locale, 'users.password'), type: 'password', error: e.password, autocomplete: 'new-password' })}
<button type="submit">${t(locale, 'users.add')}</button>
</form>`;
  return sendPage(reply, request, ctx, { title: t(locale, 'users.title'), body, status: state.status });
}

export async function registerAdminPages(app: AppServer, ctx: AppContext): Promise<void> {
  app.get(
    '/admin',
    { schema: { querystring: Type.Object({}), response: PAGE_RESPONSE }, preHandler: requireRole('editor') },
    async (request, reply) => {
      const { locale } = pageContext(request, ctx);
      const user = request.user!;
      const links = adminLinks().filter((l) => hasRole(user, l.role));
      const body = html`<h1>${t(locale, 'admin.title')}</h1>
<p>${t(locale, 'admin.hello', { name: user.displayName ?? user.email })} (${t(locale, `role.${user.role}`)})</p>
<ul class="admin-links">
${links.map((l) => html`<li><a href="${l.href}">${l.label[locale]}</a>${l.description ? html` — <span class="muted">${l.description[locale]}</span>` : ''}</li>`)}
<li><a href="/api/docs">${t(locale, 'admin.apiDocs')}</a></li>
</ul>`;
      return sendPage(reply, request, ctx, { title: t(locale, 'admin.title'), body });
    },
  );

  app.get(
    '/admin/tokens',
    { schema: { querystring: Type.Object({}), response: PAGE_RESPONSE }, preHandler: requireRole('editor') },
    async (request, reply) => tokensPage(ctx, request, reply),
  );

  app.post(
    '/admin/tokens',
    {
      schema: { body: Type.Object({ name: Type.String({ maxLength: 200 }), _csrf: Type.Optional(Type.String()) }) },
      preHandler: requireRole('editor'),
    },
    async (request, reply) => {
      try {
        const created = await createApiToken(ctx.db, request.user!.id, request.body.name);
        return tokensPage(ctx, request, reply, { created: created.token, status: 201 });
      } catch (error) {
        return tokensPage(ctx, request, reply, { error: formError(pageContext(request, ctx).locale, error).message, status: 400 });
      }
    },
  );

  app.post(
    '/admin/tokens/:id/revoke',
    {
      schema: { params: Type.Object({ id: Type.String({ format: 'uuid' }) }), body: Type.Object({ _csrf: Type.Optional(Type.String()) }) },
      preHandler: requireRole('editor'),
    },
    async (request, reply) => {
      await revokeApiToken(ctx.db, request.user!, request.params.id);
      return reply.redirect('/admin/tokens', 303);
    },
  );

  app.get(
    '/admin/users',
    {
      schema: { querystring: Type.Object({ added: Type.Optional(Type.String()) }), response: PAGE_RESPONSE },
      preHandler: requireRole('admin'),
    },
    async (request, reply) => usersPage(ctx, request, reply, { added: request.query.added === '1' }),
  );

  app.post(
    '/admin/users',
    {
      schema: {
        body: Type.Object({
          email: Type.String({ maxLength: 320 }),
          displayName: Type.Optional(Type.String({ maxLength: 200 })),
          role: Type.String({ maxLength: 20 }),
          password: Type.String({ maxLength: 1000 }),
          _csrf: Type.Optional(Type.String()),
        }),
      },
      preHandler: requireRole('admin'),
    },
    async (request, reply) => {
      const { email, displayName, role, password } = request.body;
      try {
        const user = await createUser(ctx.db, { email, displayName, role: role as 'admin' | 'editor', password });
        if (user.role === 'admin') await forgetSetupCodes(ctx.db);
        return reply.redirect('/admin/users?added=1', 303);
      } catch (error) {
        const { field: name, message } = formError(pageContext(request, ctx).locale, error);
        return usersPage(ctx, request, reply, {
          values: { email, displayName, role },
          error: message,
          errors: name ? { [name]: message } : {},
          status: 400,
        });
      }
    },
  );
}
