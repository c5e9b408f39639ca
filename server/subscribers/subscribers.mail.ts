// The emails of the subscription itself: the double opt-in link, and (to someone already
// subscribed who fills the form again) a link to their preferences. Sent by a job, so the form
// answers at once and a mail server outage only delays them.
import type { AppContext } from '../core/context.ts';
import { sendLinkEmail } from '../mail/link-email.ts';
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
  await sendLinkEmail(ctx, {
    to: { email: s.email, name: s.name },
    locale,
    subject,
    intro,
    button,
    link,
    note: ignore,
    what: 'subscription email',
    logContext: { subscriberId: s.id },
  });
}
