// Admin pages for editors: the subscribers at a glance, adding one address, importing a CSV file
// (Mailpro's export or a spreadsheet) with a progress bar, and exporting the list. The same rules
// as the REST API (subscribers.routes.ts): an import never emails anyone unless the editor asks for
// a re-permission mail, and always records the legal basis the editor states.
import multipart from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csrfField, csrfToken } from '../accounts/csrf.ts';
import { requireRole } from '../accounts/guards.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { addAdminLink } from '../web/admin-links.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { sendPage } from '../web/layout.ts';
import { importProgress, startImport } from './import-progress.ts';
import { importSubscribers } from './subscribers.import.ts';
import { countByStatus, insertConsents, updateSubscriber } from './subscribers.repository.ts';
import { CONSENT_VERSION, FREQUENCIES, requestSubscription } from './subscribers.service.ts';
import type { Frequency } from './subscribers.tables.ts';

/** Largest CSV accepted from the page (a 100,000-row Mailpro export is about 10 MB). */
const MAX_CSV_BYTES = 32 * 1024 * 1024;
const MAX_INVALID_SHOWN = 500;

const FREQUENCY_FR: Record<Frequency, string> = { alert: 'à chaque annonce', weekly: 'chaque semaine', monthly: 'chaque mois' };

function frequencySelect(id: string): SafeHtml {
  return html`<select id="${id}" name="frequency">${FREQUENCIES.map(
    (f) => html`<option value="${f}"${f === 'weekly' ? html` selected` : ''}>${FREQUENCY_FR[f as Frequency]}</option>`,
  )}</select>`;
}

async function mainPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, notice?: SafeHtml, status = 200) {
  const counts = await countByStatus(ctx.db);
  return sendPage(reply, request, ctx, {
    title: 'Abonnés',
    status,
    body: html`<h1>Abonnés</h1>
${notice ?? ''}
<p>${counts.active ?? 0} actifs, ${counts.pending ?? 0} en attente de confirmation, ${counts.unsubscribed ?? 0} désabonnés, ${counts.bouncing ?? 0} en erreur.</p>
<p><a href="/api/v1/subscribers/export" download>Exporter la liste (CSV)</a> · <a href="/newsletter">Formulaire public d’inscription</a> · <a href="/admin/newsletters">Lettre d’information</a></p>
<h2>Importer un fichier</h2>
<p>Un fichier CSV (export de Mailpro ou tableur), en UTF-8 ou Windows-1252, séparé par des virgules ou des points-virgules, avec une ligne d’en-tête nommant la colonne des adresses (email, e-mail ou courriel) et, si vous voulez, nom et prénom. Les doublons sont fusionnés, les lignes refusées sont listées avec leur numéro. Les adresses désinscrites ou effacées ne reviennent pas.</p>
<form method="post" action="/admin/subscribers/import?_csrf=${csrfToken(request)}" enctype="multipart/form-data">
<label for="i-file">Fichier CSV</label><input id="i-file" name="file" type="file" accept=".csv,text/csv" required>
<label for="i-basis">Base légale (enregistrée pour chaque adresse)</label><input id="i-basis" name="legalBasis" required minlength="3" maxlength="300" placeholder="ex. : inscrits à la lettre Mailpro, consentement recueilli en 2024">
<label for="i-frequency">Fréquence proposée</label>${frequencySelect('i-frequency')}
<div><input type="checkbox" id="i-repermission" name="repermission" value="true"> <label for="i-repermission">Envoyer à chaque nouvelle adresse un courriel pour confirmer son inscription (elle reste en attente jusque-là)</label></div>
<button type="submit">Importer</button></form>
<h2>Ajouter une adresse</h2>
<form method="post" action="/admin/subscribers">${csrfField(request)}
<label for="a-email">Adresse électronique</label><input id="a-email" name="email" type="email" required maxlength="320">
<label for="a-name">Nom (facultatif)</label><input id="a-name" name="name" maxlength="200">
<label for="a-frequency">Fréquence</label>${frequencySelect('a-frequency')}
<label for="a-basis">Base légale, si la personne a déjà donné son accord (sur papier, en assemblée…) ; sinon laissez vide : elle recevra un courriel de confirmation</label><input id="a-basis" name="legalBasis" maxlength="300">
<button type="submit">Ajouter</button></form>`,
  });
}

async function progressPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, id: string) {
  const entry = await importProgress(ctx, id);
  if (!entry) {
    return sendPage(reply, request, ctx, {
      title: 'Import',
      status: 404,
      body: html`<h1>Import</h1><p>Cet import n’est pas connu : il date de plus d’un jour.</p><p><a href="/admin/subscribers">Retour aux abonnés</a></p>`,
    });
  }
  const error =
    entry.error ?? (entry.interrupted ? 'L’import s’est interrompu : le serveur a redémarré pendant qu’il s’exécutait.' : undefined);
  const running = !entry.report && error === undefined;
  const body = error
    ? html`<h1>Import arrêté</h1><p role="alert">${error}</p>${
        entry.done > 0
          ? html`<p>Les ${entry.done} premières adresses sont enregistrées ; importer à nouveau le même fichier ne crée pas de doublon.</p>`
          : html`<p>Aucune adresse de ce fichier n’a été ajoutée.</p>`
      }`
    : entry.report
      ? html`<h1>Import terminé</h1>
<progress max="1" value="1">100 %</progress>
<ul><li>${entry.report.rows} lignes lues (${entry.report.encoding}, séparateur « ${entry.report.delimiter} »)</li>
<li>${entry.report.imported} adresses ajoutées</li><li>${entry.report.alreadyKnown} déjà connues (inchangées)</li>
<li>${entry.report.duplicates} doublons dans le fichier (fusionnés)</li><li>${entry.report.suppressed} désinscrites ou effacées auparavant (non reprises)</li>
<li>${entry.report.invalid.length} lignes refusées</li></ul>
${
  entry.report.invalid.length > 0
    ? html`<table><caption>Lignes refusées${entry.report.invalid.length > MAX_INVALID_SHOWN ? ` (les ${MAX_INVALID_SHOWN} premières)` : ''}</caption><thead><tr><th scope="col">Ligne</th><th scope="col">Raison</th></tr></thead>
<tbody>${entry.report.invalid.slice(0, MAX_INVALID_SHOWN).map((r) => html`<tr><td>${r.line}</td><td>${r.reason}</td></tr>`)}</tbody></table>`
    : ''
}`
      : html`<h1>Import en cours</h1>
<p><label for="p-bar">Adresses traitées : ${entry.done} sur ${entry.total || '…'}</label></p>
<progress id="p-bar" max="${entry.total || 1}" value="${entry.done}">${entry.total ? Math.round((100 * entry.done) / entry.total) : 0} %</progress>
<p>Cette page se met à jour toute seule.</p>`;
  return sendPage(reply, request, ctx, {
    title: running ? 'Import en cours' : 'Import',
    // Without JavaScript: the page reloads itself every second while the import runs.
    ...(running ? { head: html`<meta http-equiv="refresh" content="1">` } : {}),
    body: html`${body}<p><a href="/admin/subscribers">Retour aux abonnés</a></p>`,
  });
}

export async function subscriberAdmin(app: AppServer, ctx: AppContext): Promise<void> {
  addAdminLink({ href: '/admin/subscribers', label: { fr: 'Abonnés', en: 'Subscribers' }, role: 'editor' });
  const editor = requireRole('editor');
  // The import form sends a file: this scope reads multipart bodies for real (another part of the
  // capability only declares the type, for forms that never carry a file).
  if (app.hasContentTypeParser('multipart/form-data')) app.removeContentTypeParser('multipart/form-data');
  await app.register(multipart, { limits: { fileSize: MAX_CSV_BYTES, files: 1, fields: 10, fieldSize: 1000 } });

  app.get('/admin/subscribers', { preHandler: editor, schema: { hide: true } }, (request, reply) => mainPage(ctx, request, reply));

  app.post(
    '/admin/subscribers',
    {
      preHandler: editor,
      schema: {
        body: Type.Object({
          email: Type.String({ maxLength: 320 }),
          name: Type.Optional(Type.String({ maxLength: 200 })),
          frequency: Type.Optional(Type.Union(FREQUENCIES.map((f) => Type.Literal(f)))),
          legalBasis: Type.Optional(Type.String({ maxLength: 300 })),
          _csrf: Type.Optional(Type.String()),
        }),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const basis = b.legalBasis?.trim() ?? '';
      try {
        const subscriber = await ctx.db.transaction().execute(async (trx) => {
          const { subscriber } = await requestSubscription(
            ctx,
            trx,
            {
              email: b.email,
              name: b.name?.trim() || undefined,
              language: ctx.config.defaultLocale,
              frequency: (b.frequency ?? 'weekly') as Frequency,
              sources: ['network', 'national', 'resources'],
              consent: true,
            },
            'admin',
          );
          if (basis.length < 3 || subscriber.status === 'active') return subscriber;
          const active = await updateSubscriber(trx, subscriber.id, { status: 'active', confirmedAt: new Date() });
          await insertConsents(trx, [
            { subscriberId: subscriber.id, action: 'added', method: 'admin', legalBasis: basis, textVersion: CONSENT_VERSION },
          ]);
          return active;
        });
        const notice =
          subscriber.status === 'active'
            ? html`<p role="status">Adresse ajoutée et active.</p>`
            : html`<p role="status">Adresse enregistrée : un courriel de confirmation lui est envoyé.</p>`;
        return mainPage(ctx, request, reply, notice);
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500) throw error;
        return mainPage(ctx, request, reply, html`<p role="alert">${error.message}</p>`, error.status);
      }
    },
  );

  // A multipart form: its fields and the file are read and checked here (size, legal basis,
  // frequency); the CSV itself is checked row by row by the import.
  app.post('/admin/subscribers/import', { preHandler: editor, schema: { hide: true } }, async (request, reply) => {
    if (!request.isMultipart()) throw new AppError('unsupported_media_type', 'Send the form with its file (multipart/form-data).');
    const fields: Record<string, string> = {};
    let file: Buffer | undefined;
    try {
      for await (const part of request.parts()) {
        if (part.type === 'file') file = await part.toBuffer();
        else fields[part.fieldname] = String(part.value ?? '');
      }
    } catch (error) {
      const tooLarge = (error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE';
      const message = tooLarge ? `Le fichier dépasse ${MAX_CSV_BYTES / 1024 / 1024} Mo : découpez-le.` : 'Le fichier n’a pas pu être lu.';
      return mainPage(ctx, request, reply, html`<p role="alert">${message}</p>`, tooLarge ? 413 : 400);
    }
    const basis = (fields.legalBasis ?? '').trim();
    const frequency = (FREQUENCIES as readonly string[]).includes(fields.frequency ?? '') ? (fields.frequency as Frequency) : 'weekly';
    if (!file || file.length === 0) return mainPage(ctx, request, reply, html`<p role="alert">Choisissez un fichier CSV.</p>`, 400);
    if (basis.length < 3 || basis.length > 300) {
      return mainPage(ctx, request, reply, html`<p role="alert">Indiquez la base légale de ces adresses (3 à 300 caractères).</p>`, 400);
    }
    const bytes = file;
    const started = await startImport(ctx, (onProgress) =>
      importSubscribers(ctx, bytes, {
        legalBasis: basis,
        repermission: fields.repermission === 'true',
        method: 'admin',
        frequency,
        sources: ['network', 'national', 'resources'],
        language: ctx.config.defaultLocale,
        onProgress,
      }).catch((error: unknown) => {
        if (error instanceof AppError) throw error;
        // Never the error's own text: a database error can quote a row (an address).
        ctx.log.error({ code: (error as { code?: string }).code }, 'subscribers: an import from the admin page failed');
        throw new Error('L’import a échoué à cause d’une erreur du serveur ; réessayez plus tard.');
      }),
    );
    return reply.redirect(`/admin/subscribers/imports/${started}`, 303);
  });

  app.get(
    '/admin/subscribers/imports/:id',
    { preHandler: editor, schema: { params: Type.Object({ id: Type.String({ format: 'uuid' }) }) } },
    (request, reply) => progressPage(ctx, request, reply, request.params.id),
  );
}
