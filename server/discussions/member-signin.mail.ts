// The email carrying a member's sign-in link (sent by a job: the form answers at once, and a mail
// server outage only delays it). French first; English for members who chose it.
import type { Locale } from '../config.ts';
import type { AppContext } from '../core/context.ts';
import { sendLinkEmail } from '../mail/link-email.ts';
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
  await sendLinkEmail(ctx, {
    to: { email: job.email },
    locale: job.locale,
    subject,
    intro,
    button: texts.button,
    link,
    note: texts.ignore,
    what: 'sign-in email',
  });
}
