// The instance actor's key pairs (RSA for HTTP Signatures as Mastodon checks them, Ed25519 for
// object proofs), generated once and kept in the database so that every process of the
// instance signs with the same keys. Two processes starting at once: the first insert wins and
// both read it back.
import { exportJwk, generateCryptoKeyPair, importJwk } from '@fedify/fedify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

export interface InstanceKeys {
  rsa: CryptoKeyPair;
  ed25519: CryptoKeyPair;
}

// RSA-2048 as Mastodon uses, rather than Fedify's default of 4096 bits: every delivery is signed
// once per inbox, and a 4096-bit signature costs about seven times the CPU (measured: 4–5 ms, the
// bulk of a delivery). Instances created before keep their key.
function generateRsa2048(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  );
}

async function ensureKey(db: Kysely<Database>, kind: 'rsa' | 'ed25519'): Promise<CryptoKeyPair> {
  let row = await db.selectFrom('federation_keys').select(['private_jwk', 'public_jwk']).where('kind', '=', kind).executeTakeFirst();
  if (!row) {
    const pair = kind === 'rsa' ? await generateRsa2048() : await generateCryptoKeyPair('Ed25519');
    await db
      .insertInto('federation_keys')
      .values({
        kind,
        private_jwk: JSON.stringify(await exportJwk(pair.privateKey)),
        public_jwk: JSON.stringify(await exportJwk(pair.publicKey)),
      })
      .onConflict((oc) => oc.column('kind').doNothing())
      .execute();
    row = await db.selectFrom('federation_keys').select(['private_jwk', 'public_jwk']).where('kind', '=', kind).executeTakeFirstOrThrow();
  }
  return { privateKey: await importJwk(row.private_jwk, 'private'), publicKey: await importJwk(row.public_jwk, 'public') };
}

export async function loadInstanceKeys(db: Kysely<Database>): Promise<InstanceKeys> {
  return { rsa: await ensureKey(db, 'rsa'), ed25519: await ensureKey(db, 'ed25519') };
}
