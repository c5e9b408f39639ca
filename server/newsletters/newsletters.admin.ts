// Admin pages for editors: the list of issues with the subscriber counts, composing an issue
// (announcements new since the last one are proposed), its preview at mobile and desktop width
// (iframes with srcdoc: nothing is fetched) with its weight, a test send to oneself, send now or
// schedule, pause, resume, cancel, and the progress (live: the page's small script follows the
// issue's WebSocket topic, or polls the API when it cannot;
// without JavaScript, the page shows it at each load).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csrfField } from '../accounts/csrf.ts';
import { requireRole } from '../accounts/guards.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { countByStatus } from '../subscribers/subscribers.repository.ts';
import { addAdminLink } from '../web/admin-links.ts';
import { html } from '../web/html.ts';
import { sendPage } from '../web/layout.ts';
import { MAX_HTML_BYTES, personalise } from './newsletters.render.ts';
import { listIssues } from './newsletters.repository.ts';
import {
  cancel,
  compileFor,
  createIssue,
  pause,
  progress,
  proposeAnnouncements,
  proposeResources,
  requireIssue,
  resume,
  schedule,
  sendTest,
  startSending,
} from './newsletters.service.ts';

const STATUS_FR: Record<string, string> = {
  draft: 'brouillon',
  scheduled: 'programmée',
  sending: 'en cours d’envoi',
  paused: 'en pause',
  sent: 'envoyée',
  cancelled: 'annulée',
};

/** A datetime-local value (no time zone) read as Paris time, summer or winter. */
export function parisTime(local: string): Date {
  const guess = new Date(`${local}:00Z`);
  if (Number.isNaN(guess.getTime())) return guess;
  const inParis = new Date(guess.toLocaleString('en-US', { timeZone: 'Europe/Paris' }));
  const inUtc = new Date(guess.toLocaleString('en-US', { timeZone: 'UTC' }));
  return new Date(guess.getTime() - (inParis.getTime() - inUtc.getTime()));
}

export async function newsletterAdmin(app: AppServer, ctx: AppContext): Promise<void> {
  addAdminLink({ href: '/admin/newsletters', label: { fr: 'Lettre d’information', en: 'Newsletter' }, role: 'editor' });
  const editor = requireRole('editor');

  app.get('/admin/newsletters', { preHandler: editor, schema: { response: { 200: Type.String() } } }, async (request, reply) => {
    const issues = await listIssues(ctx.db, 50);
    const counts = await countByStatus(ctx.db);
    return sendPage(reply, request, ctx, {
      title: 'Lettre d’information',
      body: html`<h1>Lettre d’information</h1>
<p>Abonnés : ${counts.active ?? 0} actifs, ${counts.pending ?? 0} en attente de confirmation, ${counts.unsubscribed ?? 0} désabonnés, ${counts.bouncing ?? 0} en erreur.</p>
<p><a href="/admin/newsletters/new">Composer une lettre</a> · <a href="/admin/subscribers">Abonnés (ajouter, importer)</a> · <a href="/api/v1/subscribers/export">Exporter les abonnés (CSV)</a> · <a href="/newsletter">Formulaire public</a> · <a href="/admin/newsletters/settings">Réglages</a></p>
<table><caption>Lettres</caption><thead><tr><th scope="col">Objet</th><th scope="col">Type</th><th scope="col">État</th><th scope="col">Créée le</th></tr></thead>
<tbody>${issues.map(
        (i) =>
          html`<tr><td><a href="/admin/newsletters/${i.id}">${i.subject}</a></td><td>${i.kind}</td><td>${STATUS_FR[i.status] ?? i.status}</td><td>${i.createdAt.toLocaleString('fr-FR', { timeZone: 'Europe/Paris' })}</td></tr>`,
      )}</tbody></table>`,
    });
  });

  app.get('/admin/newsletters/new', { preHandler: editor, schema: { response: { 200: Type.String() } } }, async (request, reply) => {
    const proposed = await proposeAnnouncements(ctx.db);
    const proposedResources = await proposeResources(ctx.db);
    return sendPage(reply, request, ctx, {
      title: 'Composer une lettre',
      body: html`<h1>Composer une lettre</h1>
<form method="post" action="/admin/newsletters">${csrfField(request)}
<label for="f-subject">Objet</label><input id="f-subject" name="subject" required maxlength="200">
<label for="f-intro">Introduction (texte simple ; une ligne vide sépare les paragraphes)</label><textarea id="f-intro" name="introduction" rows="6"></textarea>
<fieldset><legend>Annonces (nouvelles depuis la dernière lettre, d’ici et des réseaux suivis)</legend>
${proposed.length === 0 ? html`<p>Aucune annonce nouvelle.</p>` : ''}
${proposed.map(
  (a, i) =>
    html`<div><input type="checkbox" id="a-${i}" name="announcementIds" value="${a.id}" checked> <label for="a-${i}">${a.title}${a.origin === 'remote' ? html` <small>(${a.networkName ?? a.networkHandle ?? 'réseau suivi'})</small>` : ''}</label></div>`,
)}
</fieldset>
<fieldset><legend>Ressources (nouvelles depuis la dernière lettre ; la lettre donne un lien vers leur page, jamais de pièce jointe)</legend>
${proposedResources.length === 0 ? html`<p>Aucune ressource nouvelle.</p>` : ''}
${proposedResources.map(
  (r, i) =>
    html`<div><input type="checkbox" id="r-${i}" name="resourceIds" value="${r.id}" checked> <label for="r-${i}">${r.title}${r.origin === 'remote' && r.networkName ? html` <small>(${r.networkName})</small>` : ''}</label></div>`,
)}
</fieldset>
<button type="submit">Créer le brouillon</button></form>`,
    });
  });

  app.post(
    '/admin/newsletters',
    {
      preHandler: editor,
      schema: {
        body: Type.Object({
          subject: Type.String({ maxLength: 300 }),
          introduction: Type.Optional(Type.String({ maxLength: 20_000 })),
          announcementIds: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 100 })])),
          resourceIds: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 50 })])),
          _csrf: Type.Optional(Type.String()),
        }),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const list = (v: string | string[] | undefined) =>
        (v === undefined ? [] : Array.isArray(v) ? v : [v]).filter((x) => /^[0-9a-f-]{36}$/i.test(x));
      const issue = await ctx.db.transaction().execute((trx) =>
        createIssue(
          trx,
          {
            subject: b.subject,
            introduction: b.introduction,
            announcementIds: list(b.announcementIds),
            resourceIds: list(b.resourceIds),
          },
          request.user?.id ?? null,
        ),
      );
      return reply.redirect(`/admin/newsletters/${issue.id}`, 303);
    },
  );

  async function issuePage(request: FastifyRequest, reply: FastifyReply, id: string, notice?: string, error?: string) {
    const issue = await requireIssue(ctx.db, id);
    const compiled = await compileFor(ctx, issue);
    const sample = `${ctx.config.publicUrl}/newsletter/preferences?token=aperçu`;
    const preview = personalise(compiled, {
      GREETING: 'Bonjour Camille,',
      PREFERENCES_URL: sample,
      UNSUBSCRIBE_URL: sample,
      MYDATA_URL: sample,
    }).html;
    const p = await progress(ctx.db, issue);
    const kb = Math.round(compiled.htmlBytes / 102.4) / 10;
    const heavy = compiled.htmlBytes > MAX_HTML_BYTES;
    const form = (action: string, label: string, extra = html``) =>
      html`<form method="post" action="/admin/newsletters/${issue.id}/${action}" class="inline">${csrfField(request)}${extra}<button type="submit">${label}</button></form>`;
    return sendPage(reply, request, ctx, {
      title: issue.subject,
      status: error ? 400 : 200,
      body: html`<h1>${issue.subject}</h1>
${notice ? html`<p role="status" class="notice">${notice}</p>` : ''}
${error ? html`<div role="alert" class="notice error"><p>${error}</p></div>` : ''}
<section id="progress" data-issue="${issue.id}" aria-live="polite"><h2>Envoi</h2>
<p>État : <strong data-k="status">${STATUS_FR[issue.status] ?? issue.status}</strong>${issue.scheduledAt ? html` (prévu le ${issue.scheduledAt.toLocaleString('fr-FR', { timeZone: 'Europe/Paris' })})` : ''}</p>
<p>Destinataires : ${p.total} · envoyés : <span data-k="sent">${p.sent}</span> · échecs : <span data-k="failed">${p.failed}</span> · restants : <span data-k="remaining">${p.remaining}</span> · rythme : <span data-k="rate">${p.rate}</span> messages/s · temps restant : <span data-k="left">${p.secondsLeft === null ? '—' : `${Math.ceil(p.secondsLeft / 60)} min`}</span></p>
<p><a href="/admin/newsletters/${issue.id}">Actualiser</a></p>
</section>
<section><h2>Actions</h2>
${
  issue.status === 'draft' || issue.status === 'scheduled'
    ? html`
${form('test', 'M’envoyer un essai')}
${form('send', 'Envoyer maintenant', heavy ? html`<input type="checkbox" id="f-oversize" name="confirmOversize" value="yes"> <label for="f-oversize">J’envoie malgré le poids (plus de 100 Ko)</label> ` : html``)}
${form('schedule', 'Programmer', html`<label for="f-at">Date et heure d’envoi</label> <input id="f-at" type="datetime-local" name="at" required> `)}`
    : ''
}
${issue.status === 'sending' ? form('pause', 'Mettre en pause') : ''}
${issue.status === 'paused' ? form('resume', 'Reprendre') : ''}
${['draft', 'scheduled', 'sending', 'paused'].includes(issue.status) ? form('cancel', 'Annuler l’envoi') : ''}
</section>
<section><h2>Aperçu</h2>
<p>Poids du message : <strong>${kb} Ko</strong>${heavy ? html` — <strong>au-delà de 100 Ko</strong>, certaines messageries coupent le message.` : ' (moins de 100 Ko : bien).'}
 <a href="/newsletters/${issue.id}/print">Édition à imprimer</a></p>
<div class="previews" style="display:flex;gap:1rem;flex-wrap:wrap;align-items:flex-start">
<figure><figcaption>Téléphone (375 px)</figcaption><iframe title="Aperçu sur téléphone" sandbox="" width="375" height="700" srcdoc="${preview}"></iframe></figure>
<figure><figcaption>Ordinateur (720 px)</figcaption><iframe title="Aperçu sur ordinateur" sandbox="" width="720" height="700" srcdoc="${preview}"></iframe></figure>
</div></section>
${issue.status === 'sending' ? html`<script type="module" src="/static/newsletter-progress.js"></script>` : ''}`,
    });
  }

  const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
  app.get('/admin/newsletters/:id', { preHandler: editor, schema: { params: IdParams } }, async (request, reply) =>
    issuePage(request, reply, request.params.id),
  );

  app.post(
    '/admin/newsletters/:id/:action',
    {
      preHandler: editor,
      schema: {
        params: Type.Object({ id: Type.String({ format: 'uuid' }), action: Type.String({ maxLength: 20 }) }),
        body: Type.Optional(
          Type.Object({
            at: Type.Optional(Type.String({ maxLength: 40 })),
            confirmOversize: Type.Optional(Type.String()),
            _csrf: Type.Optional(Type.String()),
          }),
        ),
      },
    },
    async (request, reply) => {
      const { id, action } = request.params;
      const body = request.body ?? {};
      try {
        let notice: string;
        switch (action) {
          case 'test':
            await sendTest(ctx, id, request.user!.email);
            notice = `Un essai a été envoyé à ${request.user!.email}.`;
            break;
          case 'send':
            await startSending(ctx, id, { confirmOversize: body.confirmOversize === 'yes' });
            notice = 'L’envoi a commencé.';
            break;
          case 'schedule':
            // datetime-local has no time zone: it is the editor's, taken as Paris time.
            await schedule(ctx.db, id, parisTime(body.at ?? ''));
            notice = 'L’envoi est programmé.';
            break;
          case 'pause':
            await pause(ctx.db, id);
            notice = 'L’envoi est en pause.';
            break;
          case 'resume':
            await resume(ctx, id);
            notice = 'L’envoi a repris.';
            break;
          case 'cancel':
            await cancel(ctx, id);
            notice = 'L’envoi est annulé.';
            break;
          default:
            throw new AppError('not_found', 'Unknown action.');
        }
        return issuePage(request, reply, id, notice);
      } catch (error) {
        if (!(error instanceof AppError) || error.code === 'not_found') throw error;
        return issuePage(request, reply, id, undefined, error.message);
      }
    },
  );
}
