// Signed links for subscribers, who have no account: `payload.signature`, where the payload says
// what the link may do, for whom, and until when, and the signature is an HMAC under the instance
// secret. Nothing is stored: a token is checked by recomputing its signature, so the database
// never holds one in clear (nor at all).
import crypto from 'node:crypto';
import { instanceSecret, safeEqual } from '../accounts/secrets.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';

/** confirm: the double opt-in link (48 h). manage: preferences, unsubscribe and my data (no expiry). */
export type TokenPurpose = 'confirm' | 'manage';

export const CONFIRM_TTL_MS = 48 * 3600 * 1000;

interface Payload {
  p: TokenPurpose;
  s: string;
  /** Expiry, seconds since the epoch (absent: no expiry). */
  e?: number;
}

function sign(secret: string, body: string): string {
  return crypto.createHmac('sha256', secret).update(`subscriber-link:${body}`).digest('base64url');
}

export function makeToken(secret: string, purpose: TokenPurpose, subscriberId: string, now = Date.now()): string {
  const payload: Payload = { p: purpose, s: subscriberId };
  if (purpose === 'confirm') payload.e = Math.floor((now + CONFIRM_TTL_MS) / 1000);
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${sign(secret, body)}`;
}

/** The subscriber id the token was made for; throws bad_request (forged) or gone (expired). */
export function readToken(secret: string, token: string, purpose: TokenPurpose, now = Date.now()): string {
  const invalid = new AppError(
    'bad_request',
    'This link is not valid: it may have been cut or changed. Use the link from the latest email.',
    {
      reason: 'newsletter.link.invalid',
    },
  );
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined || token.length > 500) throw invalid;
  if (!safeEqual(signature, sign(secret, body))) throw invalid;
  let payload: Payload;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload;
  } catch {
    throw invalid;
  }
  if (payload.p !== purpose || typeof payload.s !== 'string') throw invalid;
  if (payload.e !== undefined && payload.e * 1000 < now) {
    throw new AppError('gone', 'This link has expired: subscribe again to receive a new one.', { reason: 'newsletter.link.expired' });
  }
  return payload.s;
}

export async function tokenFor(ctx: AppContext, purpose: TokenPurpose, subscriberId: string): Promise<string> {
  return makeToken(await instanceSecret(ctx), purpose, subscriberId);
}

export async function subscriberFromToken(ctx: AppContext, token: string | undefined, purpose: TokenPurpose): Promise<string> {
  if (!token) throw new AppError('bad_request', 'This link is incomplete.', { reason: 'newsletter.link.invalid' });
  return readToken(await instanceSecret(ctx), token, purpose);
}
