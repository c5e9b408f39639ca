// Small cryptographic helpers shared by sessions, API tokens, CSRF and the setup code, and the
// instance secret: generated once, kept in `settings`, so every process of the instance shares it.
import crypto from 'node:crypto';
import type { AppContext } from '../core/context.ts';
import { putSettingIfAbsent } from './settings.repository.ts';

export function sha256Hex(value: string): string {
  return crypto.createHash('sha256').update(value).digest('hex');
}

export function hmacHex(secret: string, value: string): string {
  return crypto.createHmac('sha256', secret).update(value).digest('hex');
}

/** A random value of `bytes` bytes, base64url-encoded (URL- and cookie-safe). */
export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

/** Compares two strings in constant time (for the same length). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}

const secrets = new WeakMap<AppContext, Promise<string>>();

/** The instance secret (HMAC key for CSRF tokens and rate-limit keys), created on first use. */
export function instanceSecret(ctx: AppContext): Promise<string> {
  let secret = secrets.get(ctx);
  if (!secret) {
    // Insert-if-absent then read back: two processes starting together end up with the same one.
    secret = putSettingIfAbsent(ctx.db, 'instance_secret', crypto.randomBytes(32).toString('hex'));
    secrets.set(ctx, secret);
    secret.catch(() => secrets.delete(ctx));
  }
  return secret;
}
