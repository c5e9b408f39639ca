// The staff page that creates groups (/admin/groups): the groups of this instance, and a form
// (name, address, summary, public or members-only, open or on approval). As with the REST API,
// whoever creates a group joins it and moderates it from the start.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csrfField } from '../accounts/csrf.ts';
import { alertBox, field } from '../accounts/form.ts';
import { requireRole } from '../accounts/guards.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { addAdminLink } from '../web/admin-links.ts';
import { html } from '../web/html.ts';
import { addMessages, t } from '../web/i18n.ts';
import { PAGE_RESPONSE, pageContext, sendPage } from '../web/layout.ts';
import { doneMessage, groupPath } from './discussions.access.ts';
import { listGroups } from './groups.repository.ts';
import { requireMember } from './member-auth.ts';
import { createGroupModeratedBy } from './memberships.service.ts';

addMessages({
  fr: {
    'dga.title': 'Groupes de discussion',
    'dga.intro': 'Créez un groupe pour un sujet ou une équipe. Vous en serez membre et modérateur.',
    'dga.create': 'Créer un groupe',
    'dga.name': 'Nom du groupe',
    'dga.username': 'Adresse du groupe (lettres minuscules, chiffres ou _ ; elle ne change plus)',
    'dga.usernameHint': 'Par exemple groupe_rgpd : le groupe sera @groupe_rgpd@{host} dans le fédivers.',
    'dga.summary': 'Présentation (facultative)',
    'dga.visibility': 'Qui peut lire les échanges ?',
    'dga.visibility.public': 'Tout le monde (groupe public)',
    'dga.visibility.members': 'Seulement les membres',
    'dga.join': 'Comment devient-on membre ?',
    'dga.join.open': 'Librement',
    'dga.join.approval': 'Après validation par un modérateur',
    'dga.created': 'Le groupe est créé.',
    'dga.none': 'Aucun groupe pour l’instant.',
    'dga.taken': 'Cette adresse est déjà prise sur ce réseau : choisissez-en une autre.',
    'dga.invalid': 'Vérifiez le nom (120 caractères au plus) et l’adresse (1 à 30 lettres minuscules, chiffres ou _).',
  },
  en: {
    'dga.title': 'Discussion groups',
    'dga.intro': 'Create a group for a topic or a team. You will be its member and moderator.',
    'dga.create': 'Create a group',
    'dga.name': 'Group name',
    'dga.username': 'Group address (lower-case letters, digits or _; it cannot change later)',
    'dga.usernameHint': 'For example gdpr_group: the group will be @gdpr_group@{host} in the fediverse.',
    'dga.summary': 'Presentation (optional)',
    'dga.visibility': 'Who can read the conversations?',
    'dga.visibility.public': 'Everyone (public group)',
    'dga.visibility.members': 'Members only',
    'dga.join': 'How does one become a member?',
    'dga.join.open': 'Freely',
    'dga.join.approval': 'After a moderator’s approval',
    'dga.created': 'The group was created.',
    'dga.none': 'No group yet.',
    'dga.taken': 'This address is already taken on this network: choose another one.',
    'dga.invalid': 'Check the name (at most 120 characters) and the address (1 to 30 lower-case letters, digits or _).',
  },
});

addAdminLink({
  href: '/admin/groups',
  label: { fr: 'Groupes de discussion', en: 'Discussion groups' },
  role: 'editor',
  description: { fr: 'Créer les groupes de ce réseau.', en: 'Create this network’s groups.' },
});

interface Form {
  name: string;
  username: string;
  summary: string;
  visibility: 'public' | 'members';
  joinPolicy: 'open' | 'approval';
}

const EMPTY: Form = { name: '', username: '', summary: '', visibility: 'public', joinPolicy: 'open' };

async function page(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, form: Form, error?: string, done?: string) {
  const { locale } = pageContext(request, ctx);
  const groups = await listGroups(ctx.db, { includeRemote: false });
  const host = new URL(ctx.config.publicUrl).host;
  const radio = (name: string, value: string, checked: boolean, label: string) =>
    html`<p><input type="radio" id="f-${name}-${value}" name="${name}" value="${value}"${checked ? ' checked' : ''}> <label for="f-${name}-${value}" class="inline-label">${label}</label></p>`;
  const body = html`${doneMessage(locale, done === 'created' ? 'groupCreated' : undefined)}
<h1>${t(locale, 'dga.title')}</h1>
${
  groups.length === 0
    ? html`<p class="muted">${t(locale, 'dga.none')}</p>`
    : html`<ul>${groups.map((g) => html`<li><a href="${groupPath(g)}">${g.name}</a> <span class="muted">@${g.handle}</span></li>`)}</ul>`
}
<h2>${t(locale, 'dga.create')}</h2>
<p>${t(locale, 'dga.intro')}</p>
${alertBox(locale, error)}
<form method="post" action="/admin/groups">${csrfField(request)}
${field({ name: 'name', label: t(locale, 'dga.name'), value: form.name })}
${field({ name: 'username', label: t(locale, 'dga.username'), value: form.username, hint: t(locale, 'dga.usernameHint', { host }), autocomplete: 'off' })}
<label for="f-summary">${t(locale, 'dga.summary')}</label>
<textarea id="f-summary" name="summary" rows="3" maxlength="2000">${form.summary}</textarea>
<fieldset><legend>${t(locale, 'dga.visibility')}</legend>
${radio('visibility', 'public', form.visibility === 'public', t(locale, 'dga.visibility.public'))}
${radio('visibility', 'members', form.visibility === 'members', t(locale, 'dga.visibility.members'))}
</fieldset>
<fieldset><legend>${t(locale, 'dga.join')}</legend>
${radio('joinPolicy', 'open', form.joinPolicy === 'open', t(locale, 'dga.join.open'))}
${radio('joinPolicy', 'approval', form.joinPolicy === 'approval', t(locale, 'dga.join.approval'))}
</fieldset>
<button type="submit">${t(locale, 'dga.create')}</button>
</form>`;
  return sendPage(reply, request, ctx, {
    title: t(locale, 'dga.title'),
    head: html`<link rel="stylesheet" href="/static/discussions.css">`,
    body,
    ...(error ? { status: 400 } : {}),
  });
}

export async function registerGroupAdminPages(app: AppServer, ctx: AppContext): Promise<void> {
  app.get(
    '/admin/groups',
    {
      preHandler: requireRole('editor'),
      schema: { querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })) }), response: PAGE_RESPONSE },
    },
    async (request, reply) => page(ctx, request, reply, EMPTY, undefined, request.query.done),
  );

  app.post(
    '/admin/groups',
    {
      preHandler: requireRole('editor'),
      schema: {
        body: Type.Object({
          _csrf: Type.Optional(Type.String()),
          name: Type.String({ maxLength: 200 }),
          username: Type.String({ maxLength: 60 }),
          summary: Type.String({ maxLength: 4000 }),
          visibility: Type.Union([Type.Literal('public'), Type.Literal('members')]),
          joinPolicy: Type.Union([Type.Literal('open'), Type.Literal('approval')]),
        }),
      },
    },
    async (request, reply) => {
      const form: Form = { ...request.body };
      try {
        await ctx.db.transaction().execute(async (trx) => {
          const creator = await requireMember(ctx, request, trx);
          await createGroupModeratedBy(ctx, trx, form, creator);
        });
      } catch (error) {
        if (!(error instanceof AppError) || (error.code !== 'validation_failed' && error.code !== 'conflict')) throw error;
        const { locale } = pageContext(request, ctx);
        const message = error.code === 'conflict' ? t(locale, 'dga.taken') : t(locale, 'dga.invalid');
        return page(ctx, request, reply, form, message);
      }
      return reply.redirect('/admin/groups?done=created', 303);
    },
  );
}
