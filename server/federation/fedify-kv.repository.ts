// Fedify's key-value store (caches of remote keys and documents, inbox idempotence) on our own
// database, so the embedded default federates too and several processes share one store.
// Expired rows are ignored when read and purged from time to time.
//
// Every incoming activity reads its idempotence key twice (when it arrives and when the queue
// hands it over) and writes it once: one statement each would make the database round trips the
// limit of a burst. Reads and writes asked for in the same turn of the event loop therefore go
// to the database together: one select for all the keys read, one upsert for all the keys
// written. Writes are applied in the order they were made (one write batch at a time) and a read
// of a key whose write is not yet stored answers that write's value. A write's promise resolves
// once it is stored.
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
/** Keys per statement (PostgreSQL allows 65,535 parameters; an upsert row takes three). */
const BATCH_MAX = 500;

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

interface PendingWrite {
  json: string;
  expiresAt: Date | null;
  waiters: Array<Waiter<void>>;
}

export class DatabaseKvStore implements KvStore {
  readonly #db: Kysely<Database>;
  #lastPurge = 0;
  readonly #memo = new Map<string, { value: unknown; until: number }>();
  // Reads waiting for the next batch, by key.
  #reads = new Map<string, Array<Waiter<unknown>>>();
  #readScheduled = false;
  // Writes waiting for the next batch, and writes not yet stored (waiting or being written).
  #writes = new Map<string, PendingWrite>();
  readonly #unsettled = new Map<string, PendingWrite>();
  #writeScheduled = false;
  #writing: Promise<void> | undefined;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const k = encode(key);
    const memo = k.startsWith(MEMO_PREFIX) ? this.#memo.get(k) : undefined;
    if (memo && memo.until > Date.now()) return memo.value as T;
    const unsettled = this.#unsettled.get(k);
    if (unsettled) return JSON.parse(unsettled.json) as T;
    return new Promise<T | undefined>((resolve, reject) => {
      const list = this.#reads.get(k);
      const waiter = { resolve: resolve as (value: unknown) => void, reject };
      if (list) list.push(waiter);
      else this.#reads.set(k, [waiter]);
      if (!this.#readScheduled) {
        this.#readScheduled = true;
        setImmediate(() => void this.#flushReads());
      }
    });
  }

  async #flushReads(): Promise<void> {
    this.#readScheduled = false;
    const reads = this.#reads;
    this.#reads = new Map();
    const keys = [...reads.keys()];
    for (let i = 0; i < keys.length; i += BATCH_MAX) {
      const chunk = keys.slice(i, i + BATCH_MAX);
      try {
        const rows = await this.#db
          .selectFrom('fedify_kv')
          .select(['key', 'value', 'expires_at'])
          .where('key', 'in', chunk)
          .where(live)
          .execute();
        const found = new Map(rows.map((row) => [row.key, row]));
        for (const k of chunk) {
          const row = found.get(k);
          if (row && k.startsWith(MEMO_PREFIX)) this.#remember(k, row.value, row.expires_at);
          for (const waiter of reads.get(k) ?? []) waiter.resolve(row?.value);
        }
      } catch (error) {
        for (const k of chunk) for (const waiter of reads.get(k) ?? []) waiter.reject(error);
      }
    }
  }

  #remember(k: string, value: unknown, expiresAt: Date | null): void {
    if (this.#memo.size >= MEMO_MAX) this.#memo.clear();
    this.#memo.set(k, { value, until: Math.min(Date.now() + MEMO_MS, expiresAt?.getTime() ?? Number.POSITIVE_INFINITY) });
  }

  set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    const k = encode(key);
    this.#memo.delete(k);
    const write: PendingWrite = { json: JSON.stringify(value), expiresAt: expiry(options), waiters: [] };
    const done = new Promise<void>((resolve, reject) => write.waiters.push({ resolve, reject }));
    // A newer value for a key still waiting replaces it: one row per key and statement.
    const replaced = this.#writes.get(k);
    if (replaced) write.waiters.push(...replaced.waiters);
    this.#writes.set(k, write);
    this.#unsettled.set(k, write);
    this.#scheduleWrites();
    return done;
  }

  #scheduleWrites(): void {
    if (this.#writing || this.#writeScheduled) return;
    this.#writeScheduled = true;
    setImmediate(() => {
      this.#writeScheduled = false;
      this.#writing = this.#drainWrites().finally(() => {
        this.#writing = undefined;
        if (this.#writes.size > 0) this.#scheduleWrites();
      });
    });
  }

  // One batch at a time, so that a key written twice ends with the later value.
  async #drainWrites(): Promise<void> {
    while (this.#writes.size > 0) {
      const batch = [...this.#writes].slice(0, BATCH_MAX);
      for (const [k] of batch) this.#writes.delete(k);
      try {
        await this.#db
          .insertInto('fedify_kv')
          .values(batch.map(([key, w]) => ({ key, value: w.json, expires_at: w.expiresAt })))
          .onConflict((oc) =>
            oc.column('key').doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), expires_at: eb.ref('excluded.expires_at') })),
          )
          .execute();
        for (const [, w] of batch) for (const waiter of w.waiters) waiter.resolve();
      } catch (error) {
        for (const [, w] of batch) for (const waiter of w.waiters) waiter.reject(error);
      } finally {
        for (const [k, w] of batch) if (this.#unsettled.get(k) === w) this.#unsettled.delete(k);
      }
    }
    await this.#maybePurge().catch(() => {});
  }

  /** Waits until every write made so far is stored (or failed). */
  async #settle(): Promise<void> {
    while (this.#unsettled.size > 0) {
      const pending = [...this.#unsettled.values()].map(
        (w) => new Promise<void>((resolve) => w.waiters.push({ resolve, reject: () => resolve() })),
      );
      await Promise.all(pending);
    }
  }

  async delete(key: KvKey): Promise<void> {
    const k = encode(key);
    this.#memo.delete(k);
    if (this.#unsettled.has(k)) await this.#settle();
    await this.#db.deleteFrom('fedify_kv').where('key', '=', k).execute();
  }

  async cas(key: KvKey, expectedValue: unknown, newValue: unknown, options?: KvStoreSetOptions): Promise<boolean> {
    const k = encode(key);
    this.#memo.delete(k);
    if (this.#unsettled.has(k)) await this.#settle();
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
    await this.#settle();
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
