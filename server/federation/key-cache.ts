// Remote public keys kept in memory for the direct inbox (inbox-direct.ts), as Node key objects
// with the actor that owns them. Fedify's own cache is on the key-value store: each hit is a
// database read and a JSON-LD parse of the key. A key is fetched (through the guard, by Fedify's
// `fetchKey`) the first time it is needed, and kept for a day at most; the caller forgets it as
// soon as a signature fails with it, so a rotated key is fetched again.
import { KeyObject } from 'node:crypto';
import { fetchKey } from '@fedify/fedify';
import { CryptographicKey } from '@fedify/vocab';
import type { FederationRuntime } from './runtime.ts';

export interface KnownKey {
  key: KeyObject;
  ownerId: string;
}

const MAX_KEYS = 10_000;
const KEEP_MS = 24 * 3600_000;

export class PublicKeys {
  readonly #rt: FederationRuntime;
  readonly #keys = new Map<string, { known: KnownKey; until: number }>();

  constructor(rt: FederationRuntime) {
    this.#rt = rt;
  }

  /** The key `keyId` and its owner; null when it cannot be fetched or is not an RSA/Ed25519 key. */
  async get(keyId: string): Promise<KnownKey | null> {
    const entry = this.#keys.get(keyId);
    if (entry && entry.until > Date.now()) return entry.known;
    this.#keys.delete(keyId);
    const { key } = await fetchKey(keyId, CryptographicKey, {
      documentLoader: this.#rt.guard.documentLoader,
      contextLoader: this.#rt.guard.documentLoader,
    }).catch(() => ({ key: null }));
    if (!key?.ownerId) return null;
    const known = { key: KeyObject.from(key.publicKey), ownerId: key.ownerId.href };
    if (this.#keys.size >= MAX_KEYS) this.#keys.delete(this.#keys.keys().next().value as string);
    this.#keys.set(keyId, { known, until: Date.now() + KEEP_MS });
    return known;
  }

  forget(keyId: string): void {
    this.#keys.delete(keyId);
  }
}
