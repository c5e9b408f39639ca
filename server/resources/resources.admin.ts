// Editors' pages for the library: list, add (multipart upload), edit, add or replace a file (a new
// version; older ones stay listed), publish or unpublish, delete. Multipart forms carry their CSRF
// token in the action's query string (the body is streamed, not parsed before the check).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csrfField, csrfToken } from '../accounts/csrf.ts';
import { requireRole } from '../accounts/guards.ts';
import type { Locale } from '../config.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { formatBytes } from '../storage/local-storage.ts';
import { addAdminLink } from '../web/admin-links.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { pageContext, sendPage } from '../web/layout.ts';
import { LICENCES, licenceName } from './licences.ts';
import { deps, inputFromUpload, type ResourcesModule, removeResource, withUpload } from './resources.module.ts';
import { formatDate, kindLabel } from './resources.pages.ts';
import type { ResourceRow } from './resources.repository.ts';
import {
  AUDIENCES,
  addFile,
  checkPresentFields,
  createResource,
  LIMITS,
  type ResourceInput,
  setPublished,
  updateResource,
  viewResource,
} from './resources.service.ts';
import { field, maxFileBytes, receiveUpload } from './resources.upload.ts';
import { searchResources } from './resources-search.repository.ts';
import './resources.messages.ts';

addAdminLink({ href: '/admin/resources', label: { fr: 'Ressources', en: 'Resources' }, role: 'editor' });

const editor = requireRole('editor');
const Id = Type.Object({ id: Type.String({ format: 'uuid' }) });
const MetaBody = Type.Object({
  _csrf: Type.Optional(Type.String()),
  title: Type.Optional(Type.String({ maxLength: 1000 })),
  description: Type.Optional(Type.String({ maxLength: 40_000 })),
  link: Type.Optional(Type.String({ maxLength: 4000 })),
  tags: Type.Optional(Type.String({ maxLength: 2000 })),
  audience: Type.Optional(Type.String({ maxLength: 20 })),
  language: Type.Optional(Type.String({ maxLength: 8 })),
  licence: Type.Optional(Type.String({ maxLength: 40 })),
  author: Type.Optional(Type.String({ maxLength: 400 })),
});

/** The sentence to show for a refused form, in the page's language. */
export function problemText(error: AppError, locale: Locale, maxBytes: number): string {
  const reason = (error.details as { reason?: string } | undefined)?.reason;
  if (reason) {
    const text = t(locale, reason, { max: formatBytes(maxBytes) });
    if (text !== reason) return text;
  }
  return error.message;
}

function metaFields(locale: Locale, v: ResourceInput, maxBytes: number, withFiles: boolean): SafeHtml {
  const opt = (value: string, label: string, selected: string | undefined) =>
    html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;
  const tags = typeof v.tags === 'string' ? v.tags : (v.tags ?? []).join(', ');
  return html`<label for="title">${t(locale, 'resources.field.title')}</label>
    <input id="title" name="title" required maxlength="200" value="${v.title ?? ''}">
    <label for="description">${t(locale, 'resources.field.description')}</label>
    <textarea id="description" name="description" rows="8">${v.description ?? ''}</textarea>
    <label for="licence">${t(locale, 'resources.field.licence')}</label>
    <select id="licence" name="licence" required>${LICENCES.map((l) => opt(l.code, licenceName(l.code, locale), v.licence ?? 'cc-by-sa-4.0'))}</select>
    <label for="audience">${t(locale, 'resources.field.audience')}</label>
    <select id="audience" name="audience">${AUDIENCES.map((a) => opt(a, t(locale, `resources.audience.${a}`), v.audience ?? 'everyone'))}</select>
    <label for="tags">${t(locale, 'resources.field.tags')}</label>
    <input id="tags" name="tags" value="${tags}">
    <label for="language">${t(locale, 'resources.field.language')}</label>
    <select id="language" name="language">${opt('fr', 'Français', v.language ?? 'fr')}${opt('en', 'English', v.language ?? 'fr')}</select>
    <label for="author">${t(locale, 'resources.field.author')}</label>
    <input id="author" name="author" maxlength="120" value="${v.author ?? ''}">
    <label for="link">${t(locale, 'resources.field.link')}</label>
    <input id="link" name="link" type="url" value="${v.link ?? ''}">
    ${withFiles ? html`<label for="files">${t(locale, 'resources.field.files', { max: formatBytes(maxBytes) })}</label><input id="files" name="files" type="file" multiple>` : ''}`;
}

function problem(message: string | undefined): SafeHtml {
  return message ? html`<p role="alert" class="error">${message}</p>` : html``;
}

async function sendNewForm(
  m: ResourcesModule,
  request: FastifyRequest,
  reply: FastifyReply,
  values: ResourceInput,
  message?: string,
  status = 200,
) {
  const { locale } = pageContext(request, m.ctx);
  const maxBytes = await maxFileBytes(m.ctx.db);
  const body = html`<h1>${t(locale, 'resources.admin.new')}</h1>${problem(message)}
    <form method="post" action="/admin/resources?_csrf=${encodeURIComponent(csrfToken(request))}" enctype="multipart/form-data">
      ${metaFields(locale, values, maxBytes, true)}
      <button type="submit">${t(locale, 'resources.admin.save')}</button>
    </form>`;
  return sendPage(reply, request, m.ctx, { title: t(locale, 'resources.admin.new'), body, status });
}

async function sendEditPage(
  m: ResourcesModule,
  request: FastifyRequest,
  reply: FastifyReply,
  id: string,
  values?: ResourceInput,
  message?: string,
  status = 200,
) {
  const { locale } = pageContext(request, m.ctx);
  const view = await viewResource(m.ctx.db, id, true);
  const r = view.resource;
  if (r.origin !== 'local') throw new AppError('forbidden', 'This resource belongs to another network.');
  const maxBytes = await maxFileBytes(m.ctx.db);
  const token = encodeURIComponent(csrfToken(request));
  const v: ResourceInput = values ?? {
    title: r.title,
    description: r.descriptionMarkdown ?? '',
    link: r.linkUrl ?? '',
    tags: r.tags,
    audience: r.audience,
    language: r.language,
    licence: r.licence,
    author: r.authorName,
  };
  const body = html`<h1>${t(locale, 'resources.admin.edit')} : ${r.title}</h1>${problem(message)}
    <p><a href="/resources/${r.id}">${r.url}</a> · ${t(locale, `resources.status.${r.status}`)}</p>
    <form method="post" action="/admin/resources/${r.id}">${csrfField(request)}
      ${metaFields(locale, v, maxBytes, false)}
      <button type="submit">${t(locale, 'resources.admin.save')}</button>
    </form>
    <h2>${t(locale, 'resources.files')}</h2>
    ${view.current.map(
      (f) => html`<section aria-label="${f.name}">
        <h3>${f.name}</h3>
        <p class="muted">${kindLabel(f.kind, locale)} · ${f.size === null ? '' : formatBytes(f.size)} · v${f.version} · ${formatDate(f.createdAt, locale)}</p>
        <form method="post" action="/admin/resources/${r.id}/files?_csrf=${token}" enctype="multipart/form-data">
          <input type="hidden" name="replaces" value="${f.id}">
          <label for="replace-${f.id}">${t(locale, 'resources.admin.replace')}</label>
          <input id="replace-${f.id}" name="file" type="file" required>
          <button type="submit">${t(locale, 'resources.admin.send')}</button>
        </form>
      </section>`,
    )}
    ${view.older.length ? html`<p class="muted">${t(locale, 'resources.olderVersions')} : ${view.older.map((f) => `${f.name} (v${f.version})`).join(', ')}</p>` : ''}
    <form method="post" action="/admin/resources/${r.id}/files?_csrf=${token}" enctype="multipart/form-data">
      <label for="add-file">${t(locale, 'resources.admin.addFile')} (${formatBytes(maxBytes)} max.)</label>
      <input id="add-file" name="file" type="file" required>
      <button type="submit">${t(locale, 'resources.admin.send')}</button>
    </form>
    <h2>${t(locale, 'resources.field.status')}</h2>
    <form method="post" action="/admin/resources/${r.id}/status">${csrfField(request)}
      <input type="hidden" name="status" value="${r.status === 'published' ? 'unpublished' : 'published'}">
      <button type="submit">${t(locale, r.status === 'published' ? 'resources.admin.unpublish' : 'resources.admin.publish')}</button>
    </form>
    <form method="post" action="/admin/resources/${r.id}/delete">${csrfField(request)}
      <button type="submit" class="danger">${t(locale, 'resources.admin.delete')}</button>
    </form>`;
  return sendPage(reply, request, m.ctx, { title: `${t(locale, 'resources.admin.edit')} : ${r.title}`, body, status });
}

function row(r: ResourceRow, locale: Locale): SafeHtml {
  return html`<tr><td><a href="/admin/resources/${r.id}">${r.title}</a></td><td>${t(locale, `resources.status.${r.status}`)}</td><td>${licenceName(r.licence, locale)}</td><td>${formatDate(r.updatedAt, locale)}</td></tr>`;
}

export async function registerResourceAdmin(app: AppServer, m: ResourcesModule): Promise<void> {
  const { ctx } = m;

  // Pages without input still declare a schema (an empty one: nothing to validate).
  const noInput = { schema: { hide: true } };
  app.get('/admin/resources', { preHandler: editor, ...noInput }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    const list = await searchResources(ctx.db, { includeUnpublished: true, network: 'local', limit: 200, offset: 0 });
    const body = html`<h1>${t(locale, 'resources.admin.title')}</h1>
      <p><a class="button" href="/admin/resources/new">${t(locale, 'resources.admin.new')}</a></p>
      <table><thead><tr><th scope="col">${t(locale, 'resources.field.title')}</th><th scope="col">${t(locale, 'resources.field.status')}</th><th scope="col">${t(locale, 'resources.licence')}</th><th scope="col">Date</th></tr></thead>
      <tbody>${list.items.map((r) => row(r, locale))}</tbody></table>`;
    return sendPage(reply, request, ctx, { title: t(locale, 'resources.admin.title'), body });
  });

  app.get('/admin/resources/new', { preHandler: editor, ...noInput }, async (request, reply) => sendNewForm(m, request, reply, {}));

  // A multipart form: its fields and files are checked by receiveUpload (limits, types) and the service.
  app.post('/admin/resources', { preHandler: editor, ...noInput }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    let values: ResourceInput = {};
    try {
      const upload = await receiveUpload(request, ctx.db, m.storage, {
        maxBytes: await maxFileBytes(ctx.db),
        maxFiles: LIMITS.files,
        beforeFiles: checkPresentFields,
      });
      values = inputFromUpload(upload);
      const id = await withUpload(m, upload, (d) => createResource(d, request.user!, values, upload.files));
      return reply.redirect(`/admin/resources/${id}`, 303);
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      return sendNewForm(m, request, reply, values, problemText(error, locale, await maxFileBytes(ctx.db)), error.status);
    }
  });

  app.get('/admin/resources/:id', { preHandler: editor, schema: { params: Id } }, async (request, reply) =>
    sendEditPage(m, request, reply, request.params.id),
  );

  app.post('/admin/resources/:id', { preHandler: editor, schema: { params: Id, body: MetaBody } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    const { _csrf: _, ...values } = request.body;
    try {
      await ctx.db.transaction().execute((trx) => updateResource(deps(ctx, trx), request.params.id, values));
      return reply.redirect(`/admin/resources/${request.params.id}`, 303);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'validation_failed') throw error;
      return sendEditPage(m, request, reply, request.params.id, values, problemText(error, locale, 0), 400);
    }
  });

  app.post('/admin/resources/:id/files', { preHandler: editor, schema: { params: Id } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    const id = request.params.id;
    await viewResource(ctx.db, id, true);
    const maxBytes = await maxFileBytes(ctx.db);
    try {
      const upload = await receiveUpload(request, ctx.db, m.storage, { maxBytes, maxFiles: 1 });
      const file = upload.files[0];
      if (!file) throw new AppError('bad_request', locale === 'fr' ? 'Choisissez un fichier.' : 'Choose a file.');
      await withUpload(m, upload, (d) => addFile(d, id, request.user!.id, file, field(upload, 'replaces')));
      return reply.redirect(`/admin/resources/${id}`, 303);
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      return sendEditPage(m, request, reply, id, undefined, problemText(error, locale, maxBytes), error.status);
    }
  });

  app.post(
    '/admin/resources/:id/status',
    {
      preHandler: editor,
      schema: {
        params: Id,
        body: Type.Object({
          _csrf: Type.Optional(Type.String()),
          status: Type.Union([Type.Literal('published'), Type.Literal('unpublished')]),
        }),
      },
    },
    async (request, reply) => {
      await ctx.db.transaction().execute((trx) => setPublished(deps(ctx, trx), request.params.id, request.body.status === 'published'));
      return reply.redirect(`/admin/resources/${request.params.id}`, 303);
    },
  );

  app.post('/admin/resources/:id/delete', { preHandler: editor, schema: { params: Id } }, async (request, reply) => {
    await removeResource(m, request.params.id);
    return reply.redirect('/admin/resources', 303);
  });
}
