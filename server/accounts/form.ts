// Form pieces shared by the account pages: a labelled field whose error is announced and tied to
// it (aria-describedby), and the message of a failed action.
import type { Locale } from '../config.ts';
import { AppError } from '../core/errors.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { localPath } from '../web/local-path.ts';

export interface FieldOptions {
  name: string;
  label: string;
  type?: string;
  value?: string;
  error?: string;
  autocomplete?: string;
  required?: boolean;
  hint?: string;
}

export function field(o: FieldOptions): SafeHtml {
  const id = `f-${o.name}`;
  const described = [o.error ? `${id}-error` : '', o.hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
  return html`<label for="${id}">${o.label}</label>
${o.hint ? html`<p class="muted" id="${id}-hint">${o.hint}</p>` : ''}
${o.error ? html`<p class="error" id="${id}-error">${o.error}</p>` : ''}
<input id="${id}" name="${o.name}" type="${o.type ?? 'text'}"${o.value !== undefined && o.type !== 'password' ? html` value="${o.value}"` : ''}${
    o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''
  }${o.required === false ? '' : html` required`}${described ? html` aria-describedby="${described}"` : ''}${
    o.error ? html` aria-invalid="true"` : ''
  }>`;
}

export function alertBox(locale: Locale, message: string | undefined): SafeHtml {
  return message
    ? html`<div role="alert" class="notice error"><p><strong>${t(locale, 'accounts.error.prefix')}</strong> ${message}</p></div>`
    : html``;
}

/** The field an AppError is about and its translated message, for showing it in a form. */
export function formError(locale: Locale, error: unknown): { field?: string; message: string } {
  if (!(error instanceof AppError)) throw error;
  const details = error.details as { field?: string; reason?: string } | undefined;
  return { field: details?.field, message: details?.reason ? t(locale, details.reason) : error.message };
}

/** A local path to go back to after signing in; anything else (other sites, //host) is ignored. */
export function safeNext(next: string | undefined): string | undefined {
  return localPath(next);
}
