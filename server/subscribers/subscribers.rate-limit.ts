// The subscribe form sends an email to whatever address it is given: without a limit, a bot could
// use it to flood a victim. Counted in the database (every process agrees), in one-hour windows,
// per client IP and per target address; keys are HMACs, so the table holds neither.
import { hmacHex, instanceSecret } from '../accounts/secrets.ts';
import { deleteOldRateLimits, hitRateLimit } from '../accounts/settings.repository.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';

export const SUBSCRIBE_WINDOW_MS = 3600 * 1000;
export const SUBSCRIBE_LIMIT_PER_IP = 20;
export const SUBSCRIBE_LIMIT_PER_ADDRESS = 3;

export async function countSubscribeAttempt(ctx: AppContext, ip: string, email: string): Promise<void> {
  const now = Date.now();
  const start = new Date(Math.floor(now / SUBSCRIBE_WINDOW_MS) * SUBSCRIBE_WINDOW_MS);
  const secret = await instanceSecret(ctx);
  const ipHits = await hitRateLimit(ctx.db, `newsletter:ip:${hmacHex(secret, `ip:${ip}`)}`, start);
  const addressHits = await hitRateLimit(ctx.db, `newsletter:to:${hmacHex(secret, `email:${email.trim().toLowerCase()}`)}`, start);
  await deleteOldRateLimits(ctx.db, new Date(now - 24 * 3600 * 1000));
  if (ipHits > SUBSCRIBE_LIMIT_PER_IP || addressHits > SUBSCRIBE_LIMIT_PER_ADDRESS) {
    const minutes = Math.ceil((start.getTime() + SUBSCRIBE_WINDOW_MS - now) / 60_000);
    throw new AppError('rate_limited', `Too many subscription requests: wait ${minutes} minutes and try again.`, {
      reason: 'newsletter.error.rateLimited',
      retryAfterMinutes: minutes,
    });
  }
}
