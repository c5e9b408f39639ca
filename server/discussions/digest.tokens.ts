// Signed links of the group digest, in the manner of the newsletter's (subscribers/tokens.ts):
// `payload.signature`, an HMAC under the instance secret, nothing stored. Their own purposes and
// HMAC domain, bound to one group: a digest link can neither confirm nor cancel the newsletter,
// nor another group's digest.
import crypto from 'node:crypto';
import { instanceSecret, safeEqual } from '../accounts/secrets.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';

/** confirm: the double opt-in link (48 h). stop: unsubscribe from this group's digest (no expiry). */
export type DigestLinkPurpose = 'confirm' | 'stop';
export const DIGEST_CONFIRM_TTL_MS = 48 * 3600 * 1000;

interface Payload {
  p: DigestLinkPurpose;
  s: string;
  g: string;
  e?: number;
}

function sign(secret: string, body: string): string {
  return crypto.createHmac('sha256', secret).update(`group-digest-link:${body}`).digest('base64url');
}

export function makeDigestToken(
  secret: string,
  purpose: DigestLinkPurpose,
  subscriberId: string,
  groupId: string,
  now = Date.now(),
): string {
  const payload: Payload = { p: purpose, s: subscriberId, g: groupId };
  if (purpose === 'confirm') payload.e = Math.floor((now + DIGEST_CONFIRM_TTL_MS) / 1000);
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${sign(secret, body)}`;
}

export function readDigestToken(
  secret: string,
  token: string | undefined,
  purpose: DigestLinkPurpose,
  now = Date.now(),
): { subscriberId: string; groupId: string } {
  const invalid = new AppError(
    'bad_request',
    'This link is not valid: it may have been cut or changed. Use the link from the latest email.',
    {
      reason: 'digest.link.invalid',
    },
  );
  if (!token || token.length > 600) throw invalid;
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined || !safeEqual(signature, sign(secret, body))) throw invalid;
  let payload: Payload;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload;
  } catch {
    throw invalid;
  }
  if (payload.p !== purpose || typeof payload.s !== 'string' || typeof payload.g !== 'string') throw invalid;
  if (payload.e !== undefined && payload.e * 1000 < now) {
    throw new AppError('gone', 'This link has expired: ask again from the group page.', { reason: 'digest.link.expired' });
  }
  return { subscriberId: payload.s, groupId: payload.g };
}

export async function digestToken(ctx: AppContext, purpose: DigestLinkPurpose, subscriberId: string, groupId: string): Promise<string> {
  return makeDigestToken(await instanceSecret(ctx), purpose, subscriberId, groupId);
}

export async function fromDigestToken(ctx: AppContext, token: string | undefined, purpose: DigestLinkPurpose) {
  return readDigestToken(await instanceSecret(ctx), token, purpose);
}
