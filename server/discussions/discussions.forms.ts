// When a form of the discussion pages is refused (rate limit, not a member, banned, empty text),
// the person gets a page in their language that says why, with what they typed still in the form,
// rather than JSON or a lost message.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfField } from '../accounts/csrf.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import { html } from '../web/html.ts';
import { addMessages, t } from '../web/i18n.ts';
import { pageContext, sendPage } from '../web/layout.ts';

addMessages({
  fr: {
    'dp.errTitle': 'Votre message n’a pas pu être publié',
    'dp.errForbidden': 'Vous ne pouvez pas publier ici : rejoignez d’abord le groupe (ou attendez que votre adhésion soit acceptée).',
    'dp.errInvalid': 'Le message est vide, trop long ou mal formé : corrigez-le puis renvoyez-le.',
    'dp.errNotFound': 'Le message auquel vous répondez n’existe plus.',
    'dp.errRetry': 'Votre texte est conservé ci-dessous : vous pouvez le renvoyer.',
    'dp.back2': 'Revenir à la page',
  },
  en: {
    'dp.errTitle': 'Your message could not be published',
    'dp.errForbidden': 'You may not post here: join the group first (or wait until your membership is accepted).',
    'dp.errInvalid': 'The message is empty, too long or malformed: fix it and send it again.',
    'dp.errNotFound': 'The message you reply to no longer exists.',
    'dp.errRetry': 'Your text is kept below: you can send it again.',
    'dp.back2': 'Back to the page',
  },
});

const MESSAGE_OF: Record<string, string> = {
  rate_limited: 'error.rateLimited',
  forbidden: 'dp.errForbidden',
  unauthorized: 'error.signInNeeded',
  bad_request: 'dp.errInvalid',
  validation_failed: 'dp.errInvalid',
  payload_too_large: 'dp.errInvalid',
  not_found: 'dp.errNotFound',
  gone: 'dp.errNotFound',
  conflict: 'dp.errInvalid',
};

export interface FailedForm {
  action: string;
  back: string;
  /** What was typed: title (optional) and body. */
  fields: { title?: string; body: string; bodyName?: string };
  /** Hidden fields the action needs again. */
  hidden?: Record<string, string>;
}

/** Answers a refused post or reply with a page that explains it; rethrows anything unexpected. */
export function formFailure(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, error: unknown, form: FailedForm): FastifyReply {
  if (!(error instanceof AppError) || !MESSAGE_OF[error.code]) throw error;
  const { locale } = pageContext(request, ctx);
  const bodyName = form.fields.bodyName ?? 'body';
  const body = html`<h1>${t(locale, 'dp.errTitle')}</h1>
<div role="alert" class="notice error"><p>${t(locale, MESSAGE_OF[error.code]!)}</p></div>
<p>${t(locale, 'dp.errRetry')}</p>
<form method="post" action="${form.action}">${csrfField(request)}
${Object.entries(form.hidden ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
${
  form.fields.title !== undefined
    ? html`<label for="f-title">${t(locale, 'dg.composeTitle')}</label>
<input id="f-title" name="title" maxlength="200" required value="${form.fields.title}">`
    : ''
}
<label for="f-body">${t(locale, 'dg.composeBody')}</label>
<textarea id="f-body" name="${bodyName}" rows="8" maxlength="20000" required>${form.fields.body}</textarea>
<button type="submit">${t(locale, 'dg.composeSubmit')}</button>
</form>
<p><a href="${form.back}">${t(locale, 'dp.back2')}</a></p>`;
  return sendPage(reply, request, ctx, {
    title: t(locale, 'dp.errTitle'),
    status: error.status,
    head: html`<link rel="stylesheet" href="/static/discussions.css">`,
    body,
  });
}
