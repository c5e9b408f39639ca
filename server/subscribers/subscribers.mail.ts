// The emails of the subscription itself: the double opt-in link, and (to someone already
// subscribed who fills the form again) a link to their preferences. Sent by a job, so the form
// answers at once and a mail server outage only delays them.
import crypto from 'node:crypto';
import type { AppContext } from '../core/context.ts';
import { formatAddress } from '../mail/mail.headers.ts';
import { hostOf } from '../mail/mail.settings.ts';
import { MailSendError } from '../mail/mail.types.ts';
import { getMailer } from '../mail/mailer.ts';
import { escapeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { findSubscriberById } from './subscribers.repository.ts';
import { SUBSCRIBER_MAIL_QUEUE } from './subscribers.service.ts';
import { tokenFor } from './tokens.ts';

export interface SubscriberMailJob {
  subscriberId: string;
  kind: 'confirm' | 'manage';
}

export function defineSubscriberMailQueue(ctx: AppContext): void {
  ctx.queue.define<SubscriberMailJob>({
    name: SUBSCRIBER_MAIL_QUEUE,
    retryLimit: 8,
    retryDelay: 30,
    concurrency: 2,
    handler: async (data) => sendSubscriberMail(ctx, data),
  });
}

export async function sendSubscriberMail(ctx: AppContext, job: SubscriberMailJob): Promise<void> {
  const s = await findSubscriberById(ctx.db, job.subscriberId);
  if (!s) return; // erased or purged meanwhile: nothing to send
  if (job.kind === 'confirm' && s.status !== 'pending') return;
  const base = ctx.config.publicUrl;
  const locale = s.language;
  const link =
    job.kind === 'confirm'
      ? `${base}/newsletter/confirm?token=${await tokenFor(ctx, 'confirm', s.id)}`
      : `${base}/newsletter/preferences?token=${await tokenFor(ctx, 'manage', s.id)}`;
  const instance = ctx.config.instanceName;
  const subject = t(locale, job.kind === 'confirm' ? 'newsletter.mail.confirm.subject' : 'newsletter.mail.manage.subject', { instance });
  const intro = t(locale, job.kind === 'confirm' ? 'newsletter.mail.confirm.body' : 'newsletter.mail.manage.body', { instance });
  const button = t(locale, job.kind === 'confirm' ? 'newsletter.mail.confirm.button' : 'newsletter.mail.manage.button');
  const ignore = t(locale, 'newsletter.mail.ignore');
  const mailer = getMailer(ctx);
  const sender = await mailer.sender();
  try {
    await mailer.send({
      from: sender.from,
      replyTo: sender.replyTo,
      to: formatAddress(s.email, s.name),
      subject,
      messageId: `${crypto.randomUUID()}@${hostOf(base)}`,
      text: `${intro}\n\n${button} : ${link}\n\n${ignore}\n`,
      html: `<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="font-family:sans-serif;max-width:560px;margin:auto;padding:16px;color:#1a1a1a">
<p>${escapeHtml(intro)}</p>
<p><a href="${escapeHtml(link)}" style="display:inline-block;padding:12px 20px;background:#2d6a1f;color:#ffffff;text-decoration:none;border-radius:4px">${escapeHtml(button)}</a></p>
<p style="font-size:14px;color:#444">${escapeHtml(link)}</p>
<p style="font-size:14px;color:#444">${escapeHtml(ignore)}</p>
</body></html>`,
    });
  } catch (error) {
    // A refused address will not accept a retry either; anything else is retried by the queue.
    if (error instanceof MailSendError && error.permanent) {
      ctx.log.warn({ subscriberId: s.id, err: error.message }, 'subscription email refused');
      return;
    }
    throw error;
  }
}
