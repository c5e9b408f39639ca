// Admin page /admin/federation: follow a network by its handle, see the networks we follow and
// their status, our followers (accept or refuse them when approval is manual), the blocklist.
// Plain forms (work without JavaScript), each with its CSRF field; French first.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csrfField } from '../accounts/csrf.ts';
import { requireRole } from '../accounts/guards.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { addAdminLink } from '../web/admin-links.ts';
import { html } from '../web/html.ts';
import { addMessages, t } from '../web/i18n.ts';
import { pageContext, sendPage } from '../web/layout.ts';
import { deleteBlock, listBlocks, listFollowers, listFollows } from './federation.repository.ts';
import { manualApproval, setManualApproval } from './federation-settings.repository.ts';
import { acceptFollower, block, followTarget, rejectFollower, unfollow } from './follows.service.ts';
import type { FederationRuntime } from './runtime.ts';

addMessages({
  fr: {
    'fed.title': 'Fédération',
    'fed.intro': 'Votre réseau est {handle}. D’autres réseaux (et les comptes Mastodon) peuvent le suivre avec cette adresse.',
    'fed.follow': 'Suivre un réseau',
    'fed.target': 'Adresse du réseau (par exemple reseau@amap-aura.org)',
    'fed.followButton': 'Suivre',
    'fed.following': 'Réseaux suivis',
    'fed.followers': 'Abonnés',
    'fed.none': 'Aucun pour l’instant.',
    'fed.status.pending': 'en attente',
    'fed.status.accepted': 'accepté',
    'fed.status.rejected': 'refusé',
    'fed.unfollow': 'Ne plus suivre',
    'fed.accept': 'Accepter',
    'fed.reject': 'Refuser',
    'fed.remove': 'Retirer',
    'fed.manual': 'Approuver les abonnés à la main',
    'fed.save': 'Enregistrer',
    'fed.blocks': 'Liste de blocage',
    'fed.blockValue': 'Serveur (exemple.org) ou adresse d’un compte (URL)',
    'fed.block': 'Bloquer',
    'fed.unblock': 'Débloquer',
    'fed.done': 'C’est fait.',
    'fed.colName': 'Réseau',
    'fed.colStatus': 'État',
    'fed.colAction': 'Action',
  },
  en: {
    'fed.title': 'Federation',
    'fed.intro': 'Your network is {handle}. Other networks (and Mastodon accounts) can follow it with this address.',
    'fed.follow': 'Follow a network',
    'fed.target': 'Network address (for example reseau@amap-aura.org)',
    'fed.followButton': 'Follow',
    'fed.following': 'Networks followed',
    'fed.followers': 'Followers',
    'fed.none': 'None yet.',
    'fed.status.pending': 'pending',
    'fed.status.accepted': 'accepted',
    'fed.status.rejected': 'rejected',
    'fed.unfollow': 'Unfollow',
    'fed.accept': 'Accept',
    'fed.reject': 'Refuse',
    'fed.remove': 'Remove',
    'fed.manual': 'Approve followers by hand',
    'fed.save': 'Save',
    'fed.blocks': 'Blocklist',
    'fed.blockValue': 'Server (example.org) or account address (URL)',
    'fed.block': 'Block',
    'fed.unblock': 'Unblock',
    'fed.done': 'Done.',
    'fed.colName': 'Network',
    'fed.colStatus': 'Status',
    'fed.colAction': 'Action',
  },
});

addAdminLink({ href: '/admin/federation', label: { fr: 'Fédération', en: 'Federation' }, role: 'admin' });

export function federationPages(app: AppServer, rt: FederationRuntime): void {
  const admin = requireRole('admin');
  const db = rt.app.db;

  async function page(request: FastifyRequest, reply: FastifyReply, notice?: { error?: string; done?: boolean }, status = 200) {
    const { locale } = pageContext(request, rt.app);
    const [follows, followers, blocks, manual] = await Promise.all([
      listFollows(db),
      listFollowers(db),
      listBlocks(db),
      manualApproval(db),
    ]);
    const handle = `${rt.handle}@${rt.host}`;
    const action = (href: string, label: string) =>
      html`<form method="post" action="${href}" class="inline">${csrfField(request)}<button type="submit">${label}</button></form>`;
    const body = html`<h1>${t(locale, 'fed.title')}</h1>
<p>${t(locale, 'fed.intro', { handle })}</p>
${notice?.error ? html`<div role="alert" class="notice error"><p>${notice.error}</p></div>` : ''}
${notice?.done ? html`<div role="status" class="notice"><p>${t(locale, 'fed.done')}</p></div>` : ''}
<section aria-labelledby="h-follow"><h2 id="h-follow">${t(locale, 'fed.follow')}</h2>
<form method="post" action="/admin/federation/follow">${csrfField(request)}
<label for="f-target">${t(locale, 'fed.target')}</label>
<input id="f-target" name="target" required maxlength="500" autocomplete="off">
<button type="submit">${t(locale, 'fed.followButton')}</button></form></section>
<section aria-labelledby="h-following"><h2 id="h-following">${t(locale, 'fed.following')}</h2>
${
  follows.length === 0
    ? html`<p>${t(locale, 'fed.none')}</p>`
    : html`<table><thead><tr><th scope="col">${t(locale, 'fed.colName')}</th><th scope="col">${t(locale, 'fed.colStatus')}</th><th scope="col">${t(locale, 'fed.colAction')}</th></tr></thead><tbody>
${follows.map((f) => html`<tr><td>${f.name ?? ''} <code>${f.handle ?? f.actor_id}</code></td><td>${t(locale, `fed.status.${f.status}`)}</td><td>${action(`/admin/federation/follows/${f.id}/unfollow`, t(locale, 'fed.unfollow'))}</td></tr>`)}
</tbody></table>`
}</section>
<section aria-labelledby="h-followers"><h2 id="h-followers">${t(locale, 'fed.followers')}</h2>
<form method="post" action="/admin/federation/settings">${csrfField(request)}
<input type="checkbox" id="f-manual" name="manualApproval" value="on"${manual ? html` checked` : ''}>
<label for="f-manual">${t(locale, 'fed.manual')}</label> <button type="submit">${t(locale, 'fed.save')}</button></form>
${
  followers.length === 0
    ? html`<p>${t(locale, 'fed.none')}</p>`
    : html`<table><thead><tr><th scope="col">${t(locale, 'fed.colName')}</th><th scope="col">${t(locale, 'fed.colStatus')}</th><th scope="col">${t(locale, 'fed.colAction')}</th></tr></thead><tbody>
${followers.map(
  (f) =>
    html`<tr><td>${f.name ?? ''} <code>${f.handle ?? f.actor_id}</code></td><td>${t(locale, `fed.status.${f.status}`)}</td><td>${
      f.status === 'pending'
        ? html`${action(`/admin/federation/followers/${f.id}/accept`, t(locale, 'fed.accept'))} ${action(`/admin/federation/followers/${f.id}/reject`, t(locale, 'fed.reject'))}`
        : action(`/admin/federation/followers/${f.id}/reject`, t(locale, 'fed.remove'))
    }</td></tr>`,
)}
</tbody></table>`
}</section>
<section aria-labelledby="h-blocks"><h2 id="h-blocks">${t(locale, 'fed.blocks')}</h2>
<form method="post" action="/admin/federation/blocks">${csrfField(request)}
<label for="f-block">${t(locale, 'fed.blockValue')}</label>
<input id="f-block" name="value" required maxlength="500" autocomplete="off">
<button type="submit">${t(locale, 'fed.block')}</button></form>
${blocks.length === 0 ? html`<p>${t(locale, 'fed.none')}</p>` : html`<ul>${blocks.map((b) => html`<li><code>${b.value}</code> ${action(`/admin/federation/blocks/${b.id}/delete`, t(locale, 'fed.unblock'))}</li>`)}</ul>`}
</section>`;
    return sendPage(reply, request, rt.app, { title: t(locale, 'fed.title'), body, status });
  }

  // Each form posts, then comes back to the page (303) or shows the page with the error.
  const act = async (request: FastifyRequest, reply: FastifyReply, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      if (error instanceof AppError) return page(request, reply, { error: error.message }, error.status);
      throw error;
    }
    return reply.redirect('/admin/federation?done=1', 303);
  };
  const hide = { hide: true };
  const Id = Type.Object({ id: Type.String({ format: 'uuid' }) });
  const Form = Type.Object({ _csrf: Type.Optional(Type.String()) }, { additionalProperties: true });

  app.get(
    '/admin/federation',
    { preHandler: admin, schema: { ...hide, querystring: Type.Object({ done: Type.Optional(Type.String()) }) } },
    (request, reply) => page(request, reply, request.query.done ? { done: true } : undefined),
  );
  app.post(
    '/admin/federation/follow',
    {
      preHandler: admin,
      schema: { ...hide, body: Type.Object({ target: Type.String({ maxLength: 500 }) }, { additionalProperties: true }) },
    },
    (request, reply) => act(request, reply, () => followTarget(rt, request.body.target)),
  );
  app.post('/admin/federation/follows/:id/unfollow', { preHandler: admin, schema: { ...hide, params: Id, body: Form } }, (request, reply) =>
    act(request, reply, () => unfollow(rt, request.params.id)),
  );
  app.post('/admin/federation/followers/:id/accept', { preHandler: admin, schema: { ...hide, params: Id, body: Form } }, (request, reply) =>
    act(request, reply, () => acceptFollower(rt, request.params.id)),
  );
  app.post('/admin/federation/followers/:id/reject', { preHandler: admin, schema: { ...hide, params: Id, body: Form } }, (request, reply) =>
    act(request, reply, () => rejectFollower(rt, request.params.id)),
  );
  app.post('/admin/federation/settings', { preHandler: admin, schema: { ...hide, body: Form } }, (request, reply) =>
    act(request, reply, () => setManualApproval(db, (request.body as Record<string, unknown>).manualApproval === 'on')),
  );
  app.post(
    '/admin/federation/blocks',
    {
      preHandler: admin,
      schema: { ...hide, body: Type.Object({ value: Type.String({ maxLength: 500 }) }, { additionalProperties: true }) },
    },
    (request, reply) => act(request, reply, () => block(rt, request.body.value)),
  );
  app.post('/admin/federation/blocks/:id/delete', { preHandler: admin, schema: { ...hide, params: Id, body: Form } }, (request, reply) =>
    act(request, reply, () => deleteBlock(db, request.params.id)),
  );
}
