// The emails of following a group: the double opt-in link, or (to an address that already
// follows) the link to stop. Sent by a job, so the form answers at once and a mail server outage
// only delays them.
import type { AppContext } from '../core/context.ts';
import { sendLinkEmail } from '../mail/link-email.ts';
import { findSubscriberById } from '../subscribers/subscribers.repository.ts';
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
  await sendLinkEmail(ctx, {
    to: { email: s.email, name: s.name },
    locale,
    subject,
    intro,
    button,
    link,
    note: ignore,
    what: 'group digest email',
    logContext: { subscriberId: s.id },
  });
}
