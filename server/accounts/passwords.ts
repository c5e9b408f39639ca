// Passwords are hashed with argon2id (the @node-rs/argon2 default, with its recommended costs).
// Emails are compared in one normal form: trimmed and lower-cased.
import { hash, verify } from '@node-rs/argon2';
import { AppError } from '../core/errors.ts';

export const MIN_PASSWORD_LENGTH = 10;
const MAX_PASSWORD_LENGTH = 1000;

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// Verifying against this hash when the account does not exist takes as long as a real check, so
// the answer time does not tell whether an email has an account.
let dummy: Promise<string> | undefined;
export async function verifyDummy(password: string): Promise<void> {
  dummy ??= hash('not a real password, only here to spend time');
  await verifyPassword(await dummy, password);
}

export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError('validation_failed', `The password must have at least ${MIN_PASSWORD_LENGTH} characters.`, {
      field: 'password',
      reason: 'accounts.error.passwordShort',
    });
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new AppError('validation_failed', `The password must have at most ${MAX_PASSWORD_LENGTH} characters.`, {
      field: 'password',
      reason: 'accounts.error.passwordLong',
    });
  }
}

export function normaliseEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

export function checkEmail(email: string): void {
  if (email.length > 254 || !/^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(email)) {
    throw new AppError('validation_failed', 'The email address is not valid.', { field: 'email', reason: 'accounts.error.emailInvalid' });
  }
}
