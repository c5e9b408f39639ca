// Rate limits of discussions, counted in the database (fixed windows, like sign-in attempts) so
// that every process of the instance counts together: posts per member, posts per remote server,
// and sign-in links per email address (no email storm on someone's mailbox) and per client.
import { ipBucket } from '../accounts/rate-limit.ts';
import { hmacHex, instanceSecret } from '../accounts/secrets.ts';
import { deleteOldRateLimits, hitRateLimit } from '../accounts/settings.repository.ts';
import type { AppContext } from '../core/context.ts';
import type { Executor } from '../core/events.ts';

export const RATE_LIMITS = {
  postsPerMemberPerMinute: 10,
  postsPerHostPerMinute: 60,
  signInLinksPerAddressPerHour: 5,
  signInLinksPerClientPerHour: 30,
} as const;

function windowStart(now: Date, ms: number): Date {
  return new Date(Math.floor(now.getTime() / ms) * ms);
}

/** Counts one post by a local member; false when over the limit. */
export async function allowMemberPost(db: Executor, memberId: string, now = new Date()): Promise<boolean> {
  const hits = await hitRateLimit(db, `discussions:post:member:${memberId}`, windowStart(now, 60_000));
  return hits <= RATE_LIMITS.postsPerMemberPerMinute;
}

/** Counts one post received from a server; false when over the limit. */
export async function allowHostPost(db: Executor, host: string, now = new Date()): Promise<boolean> {
  const hits = await hitRateLimit(db, `discussions:post:host:${host}`, windowStart(now, 60_000));
  return hits <= RATE_LIMITS.postsPerHostPerMinute;
}

/**
 * Counts one sign-in link asked for this address (and this client); false when over the limit.
 * Keys are HMACs under the instance secret: the table holds neither emails nor IP addresses.
 */
export async function allowSignInRequest(ctx: AppContext, email: string, client: string | undefined, now = new Date()): Promise<boolean> {
  const secret = await instanceSecret(ctx);
  const start = windowStart(now, 3600_000);
  const byAddress = await hitRateLimit(ctx.db, `discussions:signin:email:${hmacHex(secret, email)}`, start);
  const byClient = client ? await hitRateLimit(ctx.db, `discussions:signin:client:${hmacHex(secret, ipBucket(client))}`, start) : 0;
  await deleteOldRateLimits(ctx.db, new Date(now.getTime() - 24 * 3600_000));
  return byAddress <= RATE_LIMITS.signInLinksPerAddressPerHour && byClient <= RATE_LIMITS.signInLinksPerClientPerHour;
}
