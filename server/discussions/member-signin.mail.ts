// The email carrying a member's sign-in link (sent by a job: the form answers at once, and a mail
// server outage only delays it). French first; English for members who chose it.
import crypto from 'node:crypto';
import type { Locale } from '../config.ts';
import type { AppContext } from '../core/context.ts';
import { formatAddress } from '../mail/mail.headers.ts';
import { hostOf } from '../mail/mail.settings.ts';
import { MailSendError } from '../mail/mail.types.ts';
import { getMailer } from '../mail/mailer.ts';
import { escapeHtml } from '../web/html.ts';
import type { SignInMailJob } from './member-signin.service.ts';

const TEXTS: Record<Locale, { subject: string; intro: string; button: string; ignore: string }> = {
  fr: {
    subject: 'Votre lien de connexion aux discussions – {instance}',
    intro:
      'Pour participer aux discussions de {instance}, ouvrez ce lien puis confirmez. Il est valable 30 minutes et ne sert qu’une fois.',
    button: 'Me connecter',
    ignore: 'Si vous n’avez rien demandé, ignorez ce message : personne ne pourra se connecter sans ce lien.',
  },
  en: {
    subject: 'Your sign-in link to the discussions – {instance}',
    intro: 'To take part in the discussions of {instance}, open this link and confirm. It is valid for 30 minutes and works once.',
    button: 'Sign me in',
    ignore: 'If you did not ask for it, ignore this message: nobody can sign in without this link.',
  },
};

export function signInLink(ctx: AppContext, token: string, next?: string): string {
  const query = next ? `?${new URLSearchParams({ next }).toString()}` : '';
  return `${ctx.config.publicUrl}/members/sign-in/${token}${query}`;
}

export async function sendSignInMail(ctx: AppContext, job: SignInMailJob, token: string): Promise<void> {
  const texts = TEXTS[job.locale] ?? TEXTS.fr;
  const instance = ctx.config.instanceName;
  const fill = (s: string) => s.replaceAll('{instance}', instance);
  const subject = fill(texts.subject);
  const intro = fill(texts.intro);
  const link = signInLink(ctx, token, job.next);
  const mailer = getMailer(ctx);
  const sender = await mailer.sender();
  try {
    await mailer.send({
      from: sender.from,
      replyTo: sender.replyTo,
      to: formatAddress(job.email),
      subject,
      messageId: `${crypto.randomUUID()}@${hostOf(ctx.config.publicUrl)}`,
      text: `${intro}\n\n${texts.button} : ${link}\n\n${texts.ignore}\n`,
      html: `<!doctype html><html lang="${job.locale}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="font-family:sans-serif;max-width:560px;margin:auto;padding:16px;color:#1a1a1a">
<p>${escapeHtml(intro)}</p>
<p><a href="${escapeHtml(link)}" style="display:inline-block;padding:12px 20px;background:#2d6a1f;color:#ffffff;text-decoration:none;border-radius:4px">${escapeHtml(texts.button)}</a></p>
<p style="font-size:14px;color:#444">${escapeHtml(link)}</p>
<p style="font-size:14px;color:#444">${escapeHtml(texts.ignore)}</p>
</body></html>`,
    });
  } catch (error) {
    // A refused address will not accept a retry either; anything else is retried by the queue.
    if (error instanceof MailSendError && error.permanent) {
      ctx.log.warn({ err: error.message }, 'sign-in email refused');
      return;
    }
    throw error;
  }
}
