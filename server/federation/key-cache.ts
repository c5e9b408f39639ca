// Remote public keys kept in memory for the direct inbox (inbox-direct.ts). Fedify's own cache
// is on the key-value store: each hit is a database read and a JSON-LD parse of the key. A key
// kept here is used for a day at most; a signature that fails with a kept key makes Fedify fetch
// the key again (its `verifyRequest` retries without the cache), so a rotated key is picked up.
import type { KeyCache } from '@fedify/fedify';

type Key = NonNullable<Awaited<ReturnType<KeyCache['get']>>>;

const MAX_KEYS = 10_000;
const KEEP_MS = 24 * 3600_000;

export class MemoryKeyCache implements KeyCache {
  readonly #keys = new Map<string, { key: Key; until: number }>();

  async get(keyId: URL): Promise<Key | undefined> {
    const entry = this.#keys.get(keyId.href);
    if (!entry) return undefined;
    if (entry.until < Date.now()) {
      this.#keys.delete(keyId.href);
      return undefined;
    }
    return entry.key;
  }

  async set(keyId: URL, key: Key | null): Promise<void> {
    this.#keys.delete(keyId.href);
    // A failed fetch is not remembered: Fedify's path (which the caller falls back to) decides.
    if (key === null) return;
    if (this.#keys.size >= MAX_KEYS) this.#keys.delete(this.#keys.keys().next().value as string);
    this.#keys.set(keyId.href, { key, until: Date.now() + KEEP_MS });
  }
}
