// Login attempts are counted in the database (fixed 15-minute windows) so that every process of
// the instance counts together: at most 10 tries per email address and 50 per IP address. Keys are
// HMACs of the address under the instance secret: the table holds neither emails nor IPs.
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import { hmacHex, instanceSecret } from './secrets.ts';
import { deleteOldRateLimits, hitRateLimit, resetRateLimit } from './settings.repository.ts';

export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const LOGIN_LIMIT_PER_EMAIL = 10;
export const LOGIN_LIMIT_PER_IP = 50;

function windowStart(now: Date): Date {
  return new Date(Math.floor(now.getTime() / LOGIN_WINDOW_MS) * LOGIN_WINDOW_MS);
}

/**
 * What one client's attempts are counted under: its IPv4 address, or the /64 network of its IPv6
 * address (one subscriber usually holds a whole /64: counting each address apart would let one
 * client try 2^64 times as often).
 */
export function ipBucket(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

async function keys(ctx: AppContext, ip: string, email: string): Promise<{ ipKey: string; emailKey: string }> {
  const secret = await instanceSecret(ctx);
  return { ipKey: `login:ip:${hmacHex(secret, `ip:${ipBucket(ip)}`)}`, emailKey: `login:email:${hmacHex(secret, `email:${email}`)}` };
}

/** Counts one login attempt; throws rate_limited when this email or IP has tried too often. */
export async function countLoginAttempt(ctx: AppContext, ip: string, email: string): Promise<void> {
  const now = new Date();
  const start = windowStart(now);
  const { ipKey, emailKey } = await keys(ctx, ip, email);
  const ipHits = await hitRateLimit(ctx.db, ipKey, start);
  const emailHits = await hitRateLimit(ctx.db, emailKey, start);
  // Old windows are useless; deleting them here keeps the table small without a scheduled job.
  await deleteOldRateLimits(ctx.db, new Date(now.getTime() - 24 * 3600 * 1000));
  if (ipHits > LOGIN_LIMIT_PER_IP || emailHits > LOGIN_LIMIT_PER_EMAIL) {
    const minutes = Math.ceil((start.getTime() + LOGIN_WINDOW_MS - now.getTime()) / 60_000);
    throw new AppError('rate_limited', `Too many sign-in attempts: wait ${minutes} minutes and try again.`, { retryAfterMinutes: minutes });
  }
}

/** After a successful sign-in the email's counter starts again (the IP's does not). */
export async function clearLoginAttempts(ctx: AppContext, ip: string, email: string): Promise<void> {
  const { emailKey } = await keys(ctx, ip, email);
  await resetRateLimit(ctx.db, emailKey);
}
