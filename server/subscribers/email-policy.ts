// Which addresses a subscription form accepts: syntactically valid ones, and not from the
// throw-away mail services (their messages vanish, and they are the favourite of bots).
import { isValidEmail, normaliseEmail } from '../mail/mail.headers.ts';

// The best-known disposable services; a domain that merely looks like one (temp-mail-xyz.com)
// is caught by the pattern below.
const DISPOSABLE = new Set([
  'mailinator.com',
  'yopmail.com',
  'yopmail.fr',
  'yopmail.net',
  'guerrillamail.com',
  'guerrillamail.net',
  'sharklasers.com',
  '10minutemail.com',
  '10minutemail.net',
  'temp-mail.org',
  'tempmail.com',
  'tempmailo.com',
  'throwawaymail.com',
  'trashmail.com',
  'trashmail.fr',
  'jetable.org',
  'getnada.com',
  'dispostable.com',
  'maildrop.cc',
  'mailnesia.com',
  'mohmal.com',
  'fakeinbox.com',
  'mintemail.com',
  'spamgourmet.com',
  'emailondeck.com',
  'mailcatch.com',
  'moakt.com',
  'tempr.email',
  'discard.email',
  'burnermail.io',
]);
const DISPOSABLE_PATTERN = /(^|[.-])(temp-?mail|trash-?mail|throw-?away|10-?minute|disposable|jetable|fake-?inbox|spam-?box)/i;

export type AddressProblem = 'invalid' | 'disposable';

export function addressProblem(email: string): AddressProblem | null {
  const normalised = normaliseEmail(email);
  if (!isValidEmail(normalised)) return 'invalid';
  const domain = normalised.slice(normalised.indexOf('@') + 1);
  if (DISPOSABLE.has(domain) || DISPOSABLE_PATTERN.test(domain)) return 'disposable';
  return null;
}
