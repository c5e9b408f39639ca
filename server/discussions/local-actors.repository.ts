// Actors of this instance other than the network itself (groups and people). Each has its own
// RSA-2048 key pair (Mastodon checks that the signing key belongs to the activity's actor), kept
// as JWKs in the database so that every process of the instance signs with the same keys.
import { exportJwk, importJwk } from '@fedify/fedify';
import type { Executor } from '../core/events.ts';
import type { LocalActorKind } from './discussions.tables.ts';

type Db = Executor;

export const USERNAME_PATTERN = /^[a-z0-9_]{1,30}$/;

export interface LocalActor {
  id: string;
  username: string;
  kind: LocalActorKind;
}

// 2048 bits as Mastodon uses (see federation/keys.repository.ts for why not 4096).
function generateRsa2048(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  );
}

/** Creates the actor and its key pair. The username must be free (see isUsernameTaken). */
export async function createLocalActor(
  db: Db,
  input: { username: string; kind: LocalActorKind },
): Promise<{ id: string; username: string }> {
  const pair = await generateRsa2048();
  return db
    .insertInto('local_actors')
    .values({
      username: input.username,
      kind: input.kind,
      rsa_private_jwk: JSON.stringify(await exportJwk(pair.privateKey)),
      rsa_public_jwk: JSON.stringify(await exportJwk(pair.publicKey)),
    })
    .returning(['id', 'username'])
    .executeTakeFirstOrThrow();
}

export function findLocalActorByUsername(db: Db, username: string): Promise<LocalActor | undefined> {
  return db.selectFrom('local_actors').select(['id', 'username', 'kind']).where('username', '=', username).executeTakeFirst();
}

export function findLocalActorById(db: Db, id: string): Promise<LocalActor | undefined> {
  return db.selectFrom('local_actors').select(['id', 'username', 'kind']).where('id', '=', id).executeTakeFirst();
}

export async function loadActorRsaKeys(db: Db, username: string): Promise<CryptoKeyPair | undefined> {
  const row = await db
    .selectFrom('local_actors')
    .select(['rsa_private_jwk', 'rsa_public_jwk'])
    .where('username', '=', username)
    .executeTakeFirst();
  if (!row) return undefined;
  return { privateKey: await importJwk(row.rsa_private_jwk, 'private'), publicKey: await importJwk(row.rsa_public_jwk, 'public') };
}

/** Usernames share one path (/ap/actors/{username}) with the network actor: all must differ. */
export async function isUsernameTaken(db: Db, username: string, instanceHandle: string): Promise<boolean> {
  if (username === instanceHandle.toLowerCase()) return true;
  return (await findLocalActorByUsername(db, username)) !== undefined;
}

/** A free username made from `base` (a name or an email's local part), with a number if needed. */
export async function freeUsername(db: Db, base: string, instanceHandle: string): Promise<string> {
  const stem =
    base
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 24) || 'membre';
  if (!(await isUsernameTaken(db, stem, instanceHandle))) return stem;
  for (let n = 2; n < 1000; n++) {
    const candidate = `${stem}_${n}`;
    if (!(await isUsernameTaken(db, candidate, instanceHandle))) return candidate;
  }
  return `${stem.slice(0, 17)}_${crypto.randomUUID().slice(0, 12).replace(/-/g, '')}`;
}

export async function deleteLocalActor(db: Db, id: string): Promise<void> {
  await db.deleteFrom('local_actors').where('id', '=', id).execute();
}
