// The emails of following a group: the double opt-in link, or (to an address that already
// follows) the link to stop. Sent by a job, so the form answers at once and a mail server outage
// only delays them.
import crypto from 'node:crypto';
import type { AppContext } from '../core/context.ts';
import { formatAddress } from '../mail/mail.headers.ts';
import { hostOf } from '../mail/mail.settings.ts';
import { MailSendError } from '../mail/mail.types.ts';
import { getMailer } from '../mail/mailer.ts';
import { findSubscriberById } from '../subscribers/subscribers.repository.ts';
import { escapeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { findFollow } from './digest.repository.ts';
import { DIGEST_MAIL_QUEUE, type DigestMailJob } from './digest.service.ts';
import { digestToken } from './digest.tokens.ts';
import { findGroupById } from './groups.repository.ts';

export function defineDigestMailQueue(ctx: AppContext): void {
  ctx.queue.define<DigestMailJob>({
    name: DIGEST_MAIL_QUEUE,
    retryLimit: 8,
    retryDelay: 30,
    concurrency: 2,
    handler: async (data) => sendDigestMail(ctx, data),
  });
}

export async function sendDigestMail(ctx: AppContext, job: DigestMailJob): Promise<void> {
  const s = await findSubscriberById(ctx.db, job.subscriberId);
  const group = await findGroupById(ctx.db, job.groupId);
  const follow = s && group ? await findFollow(ctx.db, group.id, s.id) : undefined;
  // Erased, unsubscribed or confirmed meanwhile: nothing (more) to send.
  if (!s || !group || !follow) return;
  if (job.kind === 'confirm' && follow.status !== 'pending') return;
  const base = ctx.config.publicUrl;
  const locale = s.language;
  const params = { group: group.name, instance: ctx.config.instanceName };
  const link =
    job.kind === 'confirm'
      ? `${base}/discussions/digest/confirm?token=${await digestToken(ctx, 'confirm', s.id, group.id)}`
      : `${base}/discussions/digest/unsubscribe?token=${await digestToken(ctx, 'stop', s.id, group.id)}`;
  const subject = t(locale, `digest.mail.${job.kind}.subject`, params);
  const intro = t(locale, `digest.mail.${job.kind}.body`, params);
  const button = t(locale, `digest.mail.${job.kind}.button`);
  const ignore = job.kind === 'confirm' ? t(locale, 'digest.mail.ignore') : '';
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
${ignore ? `<p style="font-size:14px;color:#444">${escapeHtml(ignore)}</p>` : ''}
</body></html>`,
    });
  } catch (error) {
    // A refused address will not accept a retry either; anything else is retried by the queue.
    if (error instanceof MailSendError && error.permanent) {
      ctx.log.warn({ subscriberId: s.id, err: error.message }, 'group digest email refused');
      return;
    }
    throw error;
  }
}
