// Members sign in without a password: they ask for a link (sent by email), open it, and confirm
// with a button (a POST: opening a link, as mail scanners do, changes nothing). The link holds 32
// random bytes, stored hashed, valid 30 minutes, usable once. The first confirmed sign-in of an
// address creates the member and their Person actor.
import crypto from 'node:crypto';
import { instanceSecret, randomToken, sha256Hex } from '../accounts/secrets.ts';
import type { Locale } from '../config.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import { isValidEmail, normaliseEmail } from '../mail/mail.headers.ts';
import { localPath } from '../web/local-path.ts';
import { allowSignInRequest } from './discussions.rate-limit.ts';
import { sendSignInMail } from './member-signin.mail.ts';
import {
  consumeSignInToken,
  createMember,
  deleteOldSignInTokens,
  findMemberByEmail,
  insertSignInToken,
  isSignInTokenLive,
  type MemberRow,
  markSignedIn,
} from './members.repository.ts';

export const SIGN_IN_LINK_MINUTES = 30;
/** The link is `${PUBLIC_URL}/members/sign-in/{token}` (the page that confirms by POST). */
export const SIGN_IN_PATH = '/members/sign-in';
export const SIGN_IN_MAIL_QUEUE = 'discussions.sign-in-mail';

export interface SignInMailJob {
  email: string;
  /** The link's token, sealed under the instance secret: the job table never holds it in clear. */
  sealed: string;
  locale: Locale;
  next?: string;
}

async function sealKey(ctx: AppContext): Promise<Buffer> {
  return crypto
    .createHash('sha256')
    .update(`discussions-sign-in:${await instanceSecret(ctx)}`)
    .digest();
}

export async function sealToken(ctx: AppContext, token: string): Promise<string> {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', await sealKey(ctx), iv);
  const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

export async function unsealToken(ctx: AppContext, sealed: string): Promise<string> {
  const raw = Buffer.from(sealed, 'base64url');
  const decipher = crypto.createDecipheriv('aes-256-gcm', await sealKey(ctx), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

export function defineSignInMailQueue(ctx: AppContext): void {
  ctx.queue.define<SignInMailJob>({
    name: SIGN_IN_MAIL_QUEUE,
    retryLimit: 5,
    retryDelay: 10,
    concurrency: 2,
    // Past its validity, a link is not worth sending any more.
    expireInSeconds: 120,
    handler: async (data) => sendSignInMail(ctx, data, await unsealToken(ctx, data.sealed)),
  });
}

/**
 * Sends a sign-in link to this address (whether or not it is a member yet: the answer is the same,
 * so the form tells nobody who takes part). Too many links for one address or one client: 429.
 */
export async function requestSignInLink(
  ctx: AppContext,
  input: { email: string; locale: Locale; client?: string; next?: string },
): Promise<void> {
  const email = normaliseEmail(input.email);
  if (!isValidEmail(email)) throw new AppError('validation_failed', 'Enter a valid email address.');
  if (!(await allowSignInRequest(ctx, email, input.client))) {
    throw new AppError('rate_limited', 'Too many sign-in links were asked for: wait an hour, or use the last link sent.', {
      retryAfterMinutes: 60,
    });
  }
  const token = randomToken(32);
  const now = new Date();
  const next = input.next && input.next.length <= 500 ? localPath(input.next) : undefined;
  const job: SignInMailJob = { email, sealed: await sealToken(ctx, token), locale: input.locale, ...(next ? { next } : {}) };
  await ctx.db.transaction().execute(async (trx) => {
    await insertSignInToken(trx, {
      tokenHash: sha256Hex(token),
      email,
      expiresAt: new Date(now.getTime() + SIGN_IN_LINK_MINUTES * 60_000),
    });
    await ctx.queue.send(SIGN_IN_MAIL_QUEUE, job, { trx });
  });
  await deleteOldSignInTokens(ctx.db, new Date(now.getTime() - 24 * 3600_000));
}

/** Whether the link can still be used (the confirmation page shows its button, or says why not). */
export async function isSignInLinkLive(ctx: AppContext, token: string): Promise<boolean> {
  if (!token || token.length > 100) return false;
  return isSignInTokenLive(ctx.db, sha256Hex(token), new Date());
}

/**
 * Uses the link (once): returns the member, created on their first sign-in; undefined when the
 * link is unknown, used or expired. The caller opens the session (startMemberSession).
 */
export async function confirmSignIn(
  ctx: AppContext,
  token: string,
  options: { displayName?: string | null; locale?: Locale } = {},
): Promise<MemberRow | undefined> {
  if (!token || token.length > 100) return undefined;
  const now = new Date();
  return ctx.db.transaction().execute(async (trx) => {
    const email = await consumeSignInToken(trx, sha256Hex(token), now);
    if (!email) return undefined;
    const member =
      (await findMemberByEmail(trx, email)) ??
      (await createMember(trx, {
        email,
        displayName: options.displayName?.trim().slice(0, 100) || null,
        instanceHandle: ctx.config.instanceHandle,
        ...(options.locale ? { locale: options.locale } : {}),
      }));
    await markSignedIn(trx, member.id, now);
    return { ...member, last_sign_in_at: now };
  });
}
