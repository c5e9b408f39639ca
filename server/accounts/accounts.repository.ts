// Storage of staff accounts, web sessions and API tokens. Secrets (session ids, tokens) are only
// ever stored as SHA-256 hashes; the clear value is known to its holder alone.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Role } from './accounts.tables.ts';

type Db = Kysely<Database>;

export interface UserRow {
  id: string;
  email: string;
  displayName: string | null;
  role: Role;
  passwordHash: string;
  createdAt: Date;
  disabledAt: Date | null;
}

const userColumns = [
  'users.id',
  'users.email',
  'users.display_name as displayName',
  'users.role',
  'users.password_hash as passwordHash',
  'users.created_at as createdAt',
  'users.disabled_at as disabledAt',
] as const;

export async function insertUser(
  db: Db,
  user: { email: string; displayName: string | null; passwordHash: string; role: Role },
): Promise<UserRow> {
  return db
    .insertInto('users')
    .values({ email: user.email, display_name: user.displayName, password_hash: user.passwordHash, role: user.role })
    .returning(userColumns)
    .executeTakeFirstOrThrow();
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').select(userColumns).where('email', '=', email).executeTakeFirst();
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').select(userColumns).where('id', '=', id).executeTakeFirst();
}

export async function listUsers(db: Db): Promise<UserRow[]> {
  return db.selectFrom('users').select(userColumns).orderBy('email').execute();
}

export async function adminExists(db: Db): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

// Sessions ------------------------------------------------------------------------------------

export async function insertSession(db: Db, session: { idHash: string; userId: string; expiresAt: Date }): Promise<void> {
  await db.insertInto('sessions').values({ id_hash: session.idHash, user_id: session.userId, expires_at: session.expiresAt }).execute();
}

export interface SessionWithUser {
  userId: string;
  email: string;
  displayName: string | null;
  role: Role;
  lastSeenAt: Date;
  expiresAt: Date;
}

/** The live session with this hash and its (enabled) user; expired sessions are not returned. */
export async function findLiveSession(db: Db, idHash: string, now: Date): Promise<SessionWithUser | undefined> {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'users.id as userId',
      'users.email',
      'users.display_name as displayName',
      'users.role',
      'sessions.last_seen_at as lastSeenAt',
      'sessions.expires_at as expiresAt',
    ])
    .where('sessions.id_hash', '=', idHash)
    .where('sessions.expires_at', '>', now)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
}

export async function touchSession(db: Db, idHash: string, now: Date, expiresAt: Date): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now, expires_at: expiresAt }).where('id_hash', '=', idHash).execute();
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

export async function deleteExpiredSessions(db: Db, now: Date): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
}

// API tokens ----------------------------------------------------------------------------------

export interface TokenRow {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const tokenColumns = [
  'api_tokens.id',
  'api_tokens.user_id as userId',
  'api_tokens.name',
  'api_tokens.prefix',
  'api_tokens.created_at as createdAt',
  'api_tokens.last_used_at as lastUsedAt',
  'api_tokens.revoked_at as revokedAt',
] as const;

export async function insertToken(db: Db, token: { userId: string; name: string; tokenHash: string; prefix: string }): Promise<TokenRow> {
  return db
    .insertInto('api_tokens')
    .values({ user_id: token.userId, name: token.name, token_hash: token.tokenHash, prefix: token.prefix })
    .returning(tokenColumns)
    .executeTakeFirstOrThrow();
}

export async function listTokens(db: Db, userId: string): Promise<TokenRow[]> {
  return db.selectFrom('api_tokens').select(tokenColumns).where('user_id', '=', userId).orderBy('created_at', 'desc').execute();
}

export async function findToken(db: Db, id: string): Promise<TokenRow | undefined> {
  return db.selectFrom('api_tokens').select(tokenColumns).where('id', '=', id).executeTakeFirst();
}

/** Marks the token revoked; true when it was live. */
export async function markTokenRevoked(db: Db, id: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export interface TokenOwner {
  tokenId: string;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  userId: string;
  email: string;
  displayName: string | null;
  role: Role;
  disabledAt: Date | null;
}

export async function findTokenByHash(db: Db, tokenHash: string): Promise<TokenOwner | undefined> {
  return db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .select([
      'api_tokens.id as tokenId',
      'api_tokens.last_used_at as lastUsedAt',
      'api_tokens.revoked_at as revokedAt',
      'users.id as userId',
      'users.email',
      'users.display_name as displayName',
      'users.role',
      'users.disabled_at as disabledAt',
    ])
    .where('api_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export async function touchToken(db: Db, id: string, now: Date): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
}
