// The short transactional email that carries one link (confirm a subscription, sign in, stop a
// digest…): a sentence, a button, the link in full for clients that hide buttons, and an optional
// note. Plain HTML with inline styles (no MJML compile for a one-off message) and a text part.
// A permanent refusal by the mail server is logged and not retried (the address will refuse a
// retry too); anything else is thrown, so the job queue tries again later.
import crypto from 'node:crypto';
import type { AppContext } from '../core/context.ts';
import { escapeHtml } from '../web/html.ts';
import { formatAddress } from './mail.headers.ts';
import { hostOf } from './mail.settings.ts';
import { MailSendError } from './mail.types.ts';
import { getMailer } from './mailer.ts';

export interface LinkEmail {
  to: { email: string; name?: string | null };
  locale: string;
  subject: string;
  intro: string;
  button: string;
  link: string;
  /** A last sentence in small print (e.g. "ignore this if you did not ask"), or ''. */
  note?: string;
  /** What to call it in the log when it is refused (no personal data). */
  what: string;
  /** Ids (never an address) added to that log line. */
  logContext?: Record<string, string>;
}

export async function sendLinkEmail(ctx: AppContext, email: LinkEmail): Promise<void> {
  const { subject, intro, button, link, note = '' } = email;
  const mailer = getMailer(ctx);
  const sender = await mailer.sender();
  const small = 'font-size:14px;color:#444';
  try {
    await mailer.send({
      from: sender.from,
      replyTo: sender.replyTo,
      to: formatAddress(email.to.email, email.to.name ?? undefined),
      subject,
      messageId: `${crypto.randomUUID()}@${hostOf(ctx.config.publicUrl)}`,
      text: `${intro}\n\n${button} : ${link}\n\n${note ? `${note}\n` : ''}`,
      html: `<!doctype html><html lang="${escapeHtml(email.locale)}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="font-family:sans-serif;max-width:560px;margin:auto;padding:16px;color:#1a1a1a">
<p>${escapeHtml(intro)}</p>
<p><a href="${escapeHtml(link)}" style="display:inline-block;padding:12px 20px;background:#2d6a1f;color:#ffffff;text-decoration:none;border-radius:4px">${escapeHtml(button)}</a></p>
<p style="${small}">${escapeHtml(link)}</p>
${note ? `<p style="${small}">${escapeHtml(note)}</p>` : ''}
</body></html>`,
    });
  } catch (error) {
    if (error instanceof MailSendError && error.permanent) {
      // The server's message often repeats the address: only its code is logged.
      ctx.log.warn({ ...email.logContext, smtpCode: error.responseCode }, `${email.what} refused`);
      return;
    }
    throw error;
  }
}
