// The editors' pages: the list of this network's announcements (drafts and published), the form to
// write or edit one with a preview, and deletion with confirmation. Everything works without
// JavaScript ("Prévisualiser" re-renders the form with the preview); web/preview.js only adds a
// preview that follows the typing, through POST /admin/announcements/preview.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import { csrfField } from '../accounts/csrf.ts';
import { requireRole } from '../accounts/guards.ts';
import type { Locale } from '../config.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { mediaFor } from '../media/media.module.ts';
import { addAdminLink } from '../web/admin-links.ts';
import { html, raw, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { PAGE_RESPONSE, pageContext, sendPage } from '../web/layout.ts';
import { type AnnouncementInput, type FieldProblem, LIMITS, renderMarkdown } from './announcements.domain.ts';
import { withLocalImages } from './announcements.images.ts';
import { type AnnouncementRow, getAnnouncementById, listLocalForEditors } from './announcements.repository.ts';
import { createAnnouncement, deleteAnnouncement, updateAnnouncement } from './announcements.service.ts';
import { formatDate } from './announcements.views.ts';

addAdminLink({
  href: '/admin/announcements',
  label: { fr: 'Annonces', en: 'Announcements' },
  role: 'editor',
  description: { fr: 'Écrire, modifier et publier les annonces du réseau.', en: 'Write, edit and publish the network’s announcements.' },
});

const FormBody = Type.Object(
  {
    _csrf: Type.Optional(Type.String()),
    title: Type.Optional(Type.String({ maxLength: 2000 })),
    summary: Type.Optional(Type.String({ maxLength: 5000 })),
    body: Type.Optional(Type.String({ maxLength: 200_000 })),
    imageUrl: Type.Optional(Type.String({ maxLength: 5000 })),
    imageAlt: Type.Optional(Type.String({ maxLength: 5000 })),
    tags: Type.Optional(Type.String({ maxLength: 2000 })),
    action: Type.Optional(Type.Union([Type.Literal('preview'), Type.Literal('draft'), Type.Literal('publish')])),
  },
  { additionalProperties: false },
);
type FormValues = Static<typeof FormBody>;

const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
const STYLES = html`<link rel="stylesheet" href="/static/announcements.css">`;
const editor = requireRole('editor');

interface FormState {
  values: FormValues;
  row?: AnnouncementRow;
  problems?: FieldProblem[];
  preview?: boolean;
  status?: number;
}

function valuesOf(row: AnnouncementRow): FormValues {
  return {
    title: row.title,
    summary: row.summary_auto ? '' : row.summary,
    body: row.body_markdown ?? '',
    imageUrl: row.image_url ?? '',
    imageAlt: row.image_alt ?? '',
    tags: row.tags.join(', '),
  };
}

function inputOf(values: FormValues, action: 'draft' | 'publish' | undefined): AnnouncementInput {
  return {
    title: values.title ?? '',
    summary: values.summary ?? '',
    body: values.body ?? '',
    imageUrl: values.imageUrl ?? '',
    imageAlt: values.imageAlt ?? '',
    tags: values.tags ?? '',
    ...(action ? { status: action === 'publish' ? 'published' : 'draft' } : {}),
  };
}

function textField(
  locale: Locale,
  state: FormState,
  name: 'title' | 'summary' | 'body' | 'imageUrl' | 'imageAlt' | 'tags',
  options: { label: string; hint?: string; rows?: number; required?: boolean; maxLength?: number; type?: string },
): SafeHtml {
  const id = `f-${name}`;
  const problem = state.problems?.find((p) => p.field === name);
  const error = problem ? t(locale, `ann.error.${problem.code}`) : undefined;
  const described = [options.hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const common = html` id="${id}" name="${name}"${options.required ? html` required` : ''}${
    options.maxLength ? html` maxlength="${options.maxLength}"` : ''
  }${described ? html` aria-describedby="${described}"` : ''}${error ? html` aria-invalid="true"` : ''}`;
  const value = state.values[name] ?? '';
  return html`<div class="field">
<label for="${id}">${options.label}</label>
${options.hint ? html`<p class="muted" id="${id}-hint">${options.hint}</p>` : ''}
${error ? html`<p class="error" id="${id}-error">${error}</p>` : ''}
${
  options.rows
    ? html`<textarea${common} rows="${options.rows}">${value}</textarea>`
    : html`<input${common} type="${options.type ?? 'text'}" value="${value}">`
}
</div>`;
}

function formPage(request: FastifyRequest, reply: FastifyReply, ctx: AppContext, state: FormState): FastifyReply {
  const { locale } = pageContext(request, ctx);
  const row = state.row;
  const title = row ? t(locale, 'ann.admin.edit') : t(locale, 'ann.admin.new');
  const action = row ? `/admin/announcements/${row.id}` : '/admin/announcements';
  const published = row?.status === 'published';
  const errors = state.problems?.length
    ? html`<div role="alert" class="notice error" tabindex="-1" id="form-errors"><p><strong>${t(locale, 'ann.admin.errors')}</strong></p><ul>${state.problems.map(
        (p) => html`<li><a href="#f-${p.field === 'status' ? 'title' : p.field}">${t(locale, `ann.error.${p.code}`)}</a></li>`,
      )}</ul></div>`
    : '';
  const source = state.values.body ?? '';
  const preview = source.trim() ? raw(renderMarkdown(source)) : html`<p class="muted">${t(locale, 'ann.admin.previewEmpty')}</p>`;
  const body = html`<h1>${title}</h1>
${errors}
${published ? html`<p class="notice">${t(locale, 'ann.admin.publishedWarning')}</p>` : ''}
<div class="ann-editor">
<form method="post" action="${action}" class="ann-form" data-preview-url="/admin/announcements/preview">
${csrfField(request)}
${textField(locale, state, 'title', { label: t(locale, 'ann.admin.fTitle'), required: true, maxLength: LIMITS.title })}
${textField(locale, state, 'summary', { label: t(locale, 'ann.admin.fSummary'), hint: t(locale, 'ann.admin.fSummaryHint'), rows: 3, maxLength: LIMITS.summary })}
${textField(locale, state, 'body', { label: t(locale, 'ann.admin.fBody'), hint: t(locale, 'ann.admin.fBodyHint'), rows: 16, required: true })}
${textField(locale, state, 'imageUrl', { label: t(locale, 'ann.admin.fImage'), hint: t(locale, 'ann.admin.fImageHint'), type: 'url' })}
${textField(locale, state, 'imageAlt', { label: t(locale, 'ann.admin.fAlt'), hint: t(locale, 'ann.admin.fAltHint') })}
${textField(locale, state, 'tags', { label: t(locale, 'ann.admin.fTags'), hint: t(locale, 'ann.admin.fTagsHint') })}
<p class="ann-actions">
<button type="submit" name="action" value="preview" class="secondary">${t(locale, 'ann.admin.preview')}</button>
${published ? '' : html`<button type="submit" name="action" value="draft" class="secondary">${t(locale, 'ann.admin.saveDraft')}</button>`}
<button type="submit" name="action" value="publish">${published ? t(locale, 'ann.admin.saveChanges') : t(locale, 'ann.admin.publish')}</button>
</p>
</form>
<section class="ann-preview" aria-labelledby="preview-title"${state.preview ? html` tabindex="-1" id="preview"` : ''}>
<h2 id="preview-title">${t(locale, 'ann.admin.previewTitle')}</h2>
<div class="ann-content" data-preview>${preview}</div>
</section>
</div>
<p><a href="/admin/announcements">${t(locale, 'ann.back')}</a></p>`;
  return sendPage(reply, request, ctx, {
    title,
    body,
    head: STYLES,
    scripts: ['preview.js'],
    status: state.status ?? 200,
  });
}

function problemsOf(error: unknown): FieldProblem[] {
  if (error instanceof AppError && error.code === 'validation_failed' && Array.isArray(error.details))
    return error.details as FieldProblem[];
  throw error;
}

async function loadLocal(ctx: AppContext, id: string): Promise<AnnouncementRow> {
  const row = await getAnnouncementById(ctx.db, id);
  if (row?.origin !== 'local') throw new AppError('not_found', 'No announcement with this id.');
  if (row.deleted_at) throw new AppError('gone', 'This announcement was deleted.');
  return row;
}

export async function registerAnnouncementAdminPages(app: AppServer, ctx: AppContext): Promise<void> {
  const deps = { config: ctx.config, events: ctx.events };

  app.get(
    '/admin/announcements',
    {
      preHandler: editor,
      schema: {
        querystring: Type.Object({
          done: Type.Optional(Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('deleted')])),
          page: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
        }),
        response: PAGE_RESPONSE,
      },
    },
    async (request, reply) => {
      const { locale } = pageContext(request, ctx);
      const page = request.query.page ?? 1;
      const rows = await listLocalForEditors(ctx.db, { limit: 51, offset: (page - 1) * 50 });
      const done = request.query.done ? html`<p class="notice" role="status">${t(locale, `ann.admin.${request.query.done}`)}</p>` : '';
      const table = rows.length
        ? html`<table><thead><tr><th scope="col">${t(locale, 'ann.admin.colTitle')}</th><th scope="col">${t(locale, 'ann.admin.colState')}</th><th scope="col">${t(locale, 'ann.admin.colDate')}</th><th scope="col">${t(locale, 'ann.admin.colActions')}</th></tr></thead>
<tbody>${rows.slice(0, 50).map(
            (r) => html`<tr><td><a href="/announcements/${r.id}">${r.title}</a></td>
<td>${t(locale, r.status === 'published' ? 'ann.admin.published' : 'ann.admin.draft')}</td>
<td>${formatDate(new Date(r.published_at ?? r.updated_at), locale)}</td>
<td><a href="/admin/announcements/${r.id}/edit">${t(locale, 'ann.admin.editLink')}<span class="visually-hidden"> : ${r.title}</span></a> · <a href="/admin/announcements/${r.id}/delete">${t(locale, 'ann.admin.deleteLink')}<span class="visually-hidden"> : ${r.title}</span></a></td></tr>`,
          )}</tbody></table>`
        : html`<p>${t(locale, 'ann.admin.none')}</p>`;
      const more = html`<p>${page > 1 ? html`<a href="/admin/announcements?page=${page - 1}">${t(locale, 'ann.newer')}</a> ` : ''}${
        rows.length > 50 ? html`<a href="/admin/announcements?page=${page + 1}">${t(locale, 'ann.older')}</a>` : ''
      }</p>`;
      const body = html`<h1>${t(locale, 'ann.admin.title')}</h1>
${done}
<p><a class="button" href="/admin/announcements/new">${t(locale, 'ann.admin.new')}</a></p>
${table}
${more}`;
      return sendPage(reply, request, ctx, {
        title: t(locale, 'ann.admin.title'),
        body,
        head: STYLES,
      });
    },
  );

  app.get(
    '/admin/announcements/new',
    { preHandler: editor, schema: { querystring: Type.Object({}), response: PAGE_RESPONSE } },
    async (request, reply) => formPage(request, reply, ctx, { values: {} }),
  );

  app.post('/admin/announcements', { preHandler: editor, schema: { body: FormBody, response: PAGE_RESPONSE } }, async (request, reply) => {
    const values = request.body;
    if (values.action === 'preview' || values.action === undefined) return formPage(request, reply, ctx, { values, preview: true });
    try {
      const author = request.user ? { id: request.user.id } : null;
      const input = await withLocalImages(mediaFor(ctx), inputOf(values, values.action as 'draft' | 'publish'), true);
      await ctx.db.transaction().execute((trx) => createAnnouncement(trx, deps, author, input));
    } catch (error) {
      return formPage(request, reply, ctx, { values, problems: problemsOf(error), status: 400 });
    }
    return reply.redirect('/admin/announcements?done=created', 303);
  });

  app.get(
    '/admin/announcements/:id/edit',
    { preHandler: editor, schema: { params: IdParams, response: PAGE_RESPONSE } },
    async (request, reply) => {
      const row = await loadLocal(ctx, request.params.id);
      return formPage(request, reply, ctx, { values: valuesOf(row), row });
    },
  );

  app.post(
    '/admin/announcements/:id',
    { preHandler: editor, schema: { params: IdParams, body: FormBody, response: PAGE_RESPONSE } },
    async (request, reply) => {
      const row = await loadLocal(ctx, request.params.id);
      const values = request.body;
      if (values.action === 'preview' || values.action === undefined) return formPage(request, reply, ctx, { values, row, preview: true });
      try {
        const input = await withLocalImages(mediaFor(ctx), inputOf(values, values.action as 'draft' | 'publish'));
        await ctx.db.transaction().execute((trx) => updateAnnouncement(trx, deps, row.id, input));
      } catch (error) {
        return formPage(request, reply, ctx, { values, row, problems: problemsOf(error), status: 400 });
      }
      return reply.redirect('/admin/announcements?done=updated', 303);
    },
  );

  app.get(
    '/admin/announcements/:id/delete',
    { preHandler: editor, schema: { params: IdParams, response: PAGE_RESPONSE } },
    async (request, reply) => {
      const row = await loadLocal(ctx, request.params.id);
      const { locale } = pageContext(request, ctx);
      const body = html`<h1>${t(locale, 'ann.admin.confirmTitle')}</h1>
<p>${t(locale, 'ann.admin.confirmText', { title: row.title })}</p>
<form method="post" action="/admin/announcements/${row.id}/delete">
${csrfField(request)}
<button type="submit" class="danger">${t(locale, 'ann.admin.confirm')}</button>
<a href="/admin/announcements">${t(locale, 'ann.admin.cancel')}</a>
</form>`;
      return sendPage(reply, request, ctx, {
        title: t(locale, 'ann.admin.confirmTitle'),
        body,
        head: STYLES,
      });
    },
  );

  app.post(
    '/admin/announcements/:id/delete',
    { preHandler: editor, schema: { params: IdParams, body: Type.Object({ _csrf: Type.Optional(Type.String()) }) } },
    async (request, reply) => {
      await ctx.db.transaction().execute((trx) => deleteAnnouncement(trx, deps, request.params.id));
      return reply.redirect('/admin/announcements?done=deleted', 303);
    },
  );

  app.post(
    '/admin/announcements/preview',
    {
      preHandler: editor,
      schema: {
        body: Type.Object({ _csrf: Type.Optional(Type.String()), body: Type.String({ maxLength: LIMITS.body }) }),
        response: { 200: Type.Object({ html: Type.String() }) },
      },
    },
    async (request) => ({ html: renderMarkdown(request.body.body) }),
  );
}
