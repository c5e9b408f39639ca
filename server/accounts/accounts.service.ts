// The rules of staff accounts and API tokens: who may exist, how they prove who they are.
// Callers pass the database or a transaction (`db`); nothing here knows about HTTP.
import type { Kysely } from 'kysely';
import { AppError } from '../core/errors.ts';
import type { RequestUser } from '../core/request-user.ts';
import { isUuid } from '../core/uuid.ts';
import type { Database } from '../db/schema.ts';
import {
  findToken,
  findTokenByHash,
  findUserByEmail,
  insertToken,
  insertUser,
  listTokens,
  listUsers as listUserRows,
  markTokenRevoked,
  type TokenRow,
  touchToken,
  type UserRow,
} from './accounts.repository.ts';
import type { Role } from './accounts.tables.ts';
import { checkEmail, checkPassword, hashPassword, normaliseEmail, verifyDummy, verifyPassword } from './passwords.ts';
import { randomToken, sha256Hex } from './secrets.ts';

type Db = Kysely<Database>;

export const ROLES: readonly Role[] = ['editor', 'admin'];

export interface PublicUser {
  id: string;
  email: string;
  displayName: string | null;
  role: Role;
  createdAt: Date;
}

function toPublic(row: UserRow): PublicUser {
  return { id: row.id, email: row.email, displayName: row.displayName, role: row.role, createdAt: row.createdAt };
}

export interface NewUser {
  email: string;
  password: string;
  role: Role;
  displayName?: string | null;
}

/** A checked account with its password hashed, ready to insert (no database involved). */
export interface PreparedUser {
  email: string;
  displayName: string | null;
  passwordHash: string;
  role: Role;
}

/**
 * Checks the input and hashes the password. Hashing takes a noticeable time on purpose: callers
 * that insert inside a transaction prepare first, so the transaction (and PGlite's single
 * connection) is not held meanwhile.
 */
export async function prepareUser(input: NewUser): Promise<PreparedUser> {
  const email = normaliseEmail(input.email);
  checkEmail(email);
  if (!ROLES.includes(input.role)) {
    throw new AppError('validation_failed', 'The role must be admin or editor.', { field: 'role', reason: 'accounts.error.role' });
  }
  checkPassword(input.password);
  const displayName = input.displayName?.trim() || null;
  if (displayName && displayName.length > 100) {
    throw new AppError('validation_failed', 'The name must have at most 100 characters.', {
      field: 'displayName',
      reason: 'accounts.error.nameLong',
    });
  }
  return { email, displayName, passwordHash: await hashPassword(input.password), role: input.role };
}

export async function createUser(db: Db, input: NewUser | PreparedUser): Promise<PublicUser> {
  const user = 'passwordHash' in input ? input : await prepareUser(input);
  if (await findUserByEmail(db, user.email)) throw duplicate();
  try {
    return toPublic(await insertUser(db, user));
  } catch (error) {
    // Two requests adding the same address at once: the unique index decides.
    if ((error as { code?: string }).code === '23505') throw duplicate();
    throw error;
  }
}

function duplicate(): AppError {
  return new AppError('conflict', 'An account with this email address already exists.', {
    field: 'email',
    reason: 'accounts.error.emailTaken',
  });
}

export async function listUsers(db: Db): Promise<PublicUser[]> {
  return (await listUserRows(db)).map(toPublic);
}

/** The user with this email and password, or null; unknown email and wrong password look alike. */
export async function authenticate(db: Db, email: string, password: string): Promise<PublicUser | null> {
  const user = await findUserByEmail(db, normaliseEmail(email));
  if (!user || user.disabledAt) {
    await verifyDummy(password);
    return null;
  }
  return (await verifyPassword(user.passwordHash, password)) ? toPublic(user) : null;
}

// API tokens ----------------------------------------------------------------------------------

const TOKEN_PREFIX = 'amap_';

export interface PublicToken {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function toPublicToken(row: TokenRow): PublicToken {
  return { id: row.id, name: row.name, prefix: row.prefix, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt };
}

/** A new token for the user: the clear value is returned once, only its hash is kept. */
export async function createApiToken(db: Db, userId: string, name: string): Promise<PublicToken & { token: string }> {
  const label = name.trim() || 'API';
  if (label.length > 100) {
    throw new AppError('validation_failed', 'The token name must have at most 100 characters.', {
      field: 'name',
      reason: 'accounts.error.nameLong',
    });
  }
  const token = TOKEN_PREFIX + randomToken(32);
  const row = await insertToken(db, { userId, name: label, tokenHash: sha256Hex(token), prefix: token.slice(0, 12) });
  return { ...toPublicToken(row), token };
}

export async function listApiTokens(db: Db, userId: string): Promise<PublicToken[]> {
  return (await listTokens(db, userId)).map(toPublicToken);
}

/** Revokes one of the user's tokens (an admin may revoke anyone's). Unknown → not_found. */
export async function revokeApiToken(db: Db, actor: { id: string; role: Role }, tokenId: string): Promise<void> {
  const token = isUuid(tokenId) ? await findToken(db, tokenId) : undefined;
  if (!token || (token.userId !== actor.id && actor.role !== 'admin')) {
    throw new AppError('not_found', 'No such API token.');
  }
  await markTokenRevoked(db, tokenId, new Date());
}

/** Who holds this token; an AppError('unauthorized') saying why when it cannot be used. */
export async function userForToken(db: Db, token: string): Promise<RequestUser> {
  const owner = token.length <= 200 ? await findTokenByHash(db, sha256Hex(token)) : undefined;
  if (!owner) throw new AppError('unauthorized', 'This API token is not valid.');
  if (owner.revokedAt) throw new AppError('unauthorized', 'This API token has been revoked.');
  if (owner.disabledAt) throw new AppError('unauthorized', 'The account of this API token is disabled.');
  const now = new Date();
  // Record use at most once a minute: a busy client must not turn every read into a write.
  if (!owner.lastUsedAt || now.getTime() - owner.lastUsedAt.getTime() > 60_000) await touchToken(db, owner.tokenId, now);
  return { id: owner.userId, email: owner.email, displayName: owner.displayName, role: owner.role, via: 'token' };
}
