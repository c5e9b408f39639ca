// Fedify's key-value store (caches of remote keys and documents, inbox idempotence) on our own
// database, so the embedded default federates too and several processes share one store.
// Expired rows are ignored when read and purged from time to time.
import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from '@fedify/fedify';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.ts';

// A character that never appears in URLs or Fedify's prefixes: keys stay readable and ordered.
const SEP = '\u001f';

const encode = (key: KvKey): string => key.join(SEP);
const decode = (key: string): KvKey => key.split(SEP) as unknown as KvKey;

function expiry(options?: KvStoreSetOptions): Date | null {
  if (!options?.ttl) return null;
  let ms: number;
  try {
    ms = options.ttl.total({ unit: 'millisecond' });
  } catch {
    const d = options.ttl;
    ms = ((((d.days * 24 + d.hours) * 60 + d.minutes) * 60 + d.seconds) * 1000 + d.milliseconds) | 0;
  }
  return new Date(Date.now() + ms);
}

const live = sql<boolean>`(expires_at is null or expires_at > now())`;

// Remote public keys are read for every incoming activity and change rarely: kept in memory for a
// minute on top of the table (Fedify fetches a key again when a signature fails with the cached
// one, so a rotated key is picked up at once).
const MEMO_PREFIX = `_fedify${SEP}publicKey${SEP}`;
const MEMO_MS = 60_000;
const MEMO_MAX = 1000;

export class DatabaseKvStore implements KvStore {
  readonly #db: Kysely<Database>;
  #lastPurge = 0;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  readonly #memo = new Map<string, { value: unknown; until: number }>();

  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const k = encode(key);
    const memo = k.startsWith(MEMO_PREFIX) ? this.#memo.get(k) : undefined;
    if (memo && memo.until > Date.now()) return memo.value as T;
    const row = await this.#db.selectFrom('fedify_kv').select(['value', 'expires_at']).where('key', '=', k).where(live).executeTakeFirst();
    if (row && k.startsWith(MEMO_PREFIX)) this.#remember(k, row.value, row.expires_at);
    return row === undefined ? undefined : (row.value as T);
  }

  #remember(k: string, value: unknown, expiresAt: Date | null): void {
    if (this.#memo.size >= MEMO_MAX) this.#memo.clear();
    this.#memo.set(k, { value, until: Math.min(Date.now() + MEMO_MS, expiresAt?.getTime() ?? Number.POSITIVE_INFINITY) });
  }

  async set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    const json = JSON.stringify(value);
    const expires_at = expiry(options);
    this.#memo.delete(encode(key));
    await this.#db
      .insertInto('fedify_kv')
      .values({ key: encode(key), value: json, expires_at })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: json, expires_at }))
      .execute();
    await this.#maybePurge();
  }

  async delete(key: KvKey): Promise<void> {
    this.#memo.delete(encode(key));
    await this.#db.deleteFrom('fedify_kv').where('key', '=', encode(key)).execute();
  }

  async cas(key: KvKey, expectedValue: unknown, newValue: unknown, options?: KvStoreSetOptions): Promise<boolean> {
    const k = encode(key);
    this.#memo.delete(k);
    const json = JSON.stringify(newValue);
    const expires_at = expiry(options);
    if (expectedValue === undefined) {
      // Absent (or expired) counts as undefined.
      await this.#db.deleteFrom('fedify_kv').where('key', '=', k).where(sql<boolean>`expires_at <= now()`).execute();
      const inserted = await this.#db
        .insertInto('fedify_kv')
        .values({ key: k, value: json, expires_at })
        .onConflict((oc) => oc.column('key').doNothing())
        .returning('key')
        .executeTakeFirst();
      return inserted !== undefined;
    }
    const updated = await this.#db
      .updateTable('fedify_kv')
      .set({ value: json, expires_at })
      .where('key', '=', k)
      .where(live)
      .where(sql<boolean>`value = ${JSON.stringify(expectedValue)}::jsonb`)
      .returning('key')
      .executeTakeFirst();
    return updated !== undefined;
  }

  async *list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    let query = this.#db.selectFrom('fedify_kv').select(['key', 'value']).where(live).orderBy('key');
    if (prefix) {
      const p = encode(prefix);
      query = query.where((eb) => eb.or([eb('key', '=', p), eb(sql<boolean>`starts_with(key, ${p + SEP})`, '=', true)]));
    }
    for (const row of await query.execute()) yield { key: decode(row.key), value: row.value };
  }

  /** Delete expired rows; returns how many. */
  async purgeExpired(): Promise<number> {
    const result = await this.#db.deleteFrom('fedify_kv').where(sql<boolean>`expires_at <= now()`).executeTakeFirst();
    return Number(result.numDeletedRows ?? 0);
  }

  // At most once a minute per process, piggy-backed on writes: no timer to manage.
  async #maybePurge(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastPurge < 60_000) return;
    this.#lastPurge = now;
    await this.purgeExpired();
  }
}
