// Storage of newsletter subscribers, their consent log and the suppression list (hashes of
// addresses that were erased or unsubscribed and must not come back through an import).
import { randomUUID } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { ConsentMethod, Frequency, Source, SubscriberStatus } from './subscribers.tables.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface Subscriber {
  id: string;
  email: string;
  emailHash: string;
  name: string | null;
  language: 'fr' | 'en';
  status: SubscriberStatus;
  frequency: Frequency;
  sources: Source[];
  networks: string[];
  bounceCount: number;
  createdAt: Date;
  confirmedAt: Date | null;
  unsubscribedAt: Date | null;
}

const columns = [
  'id',
  'email',
  'email_hash as emailHash',
  'name',
  'language',
  'status',
  'frequency',
  'sources',
  'networks',
  'bounce_count as bounceCount',
  'created_at as createdAt',
  'confirmed_at as confirmedAt',
  'unsubscribed_at as unsubscribedAt',
] as const;

export interface NewSubscriber {
  email: string;
  emailHash: string;
  name: string | null;
  language: 'fr' | 'en';
  status: SubscriberStatus;
  frequency: Frequency;
  sources: Source[];
  networks: string[];
  confirmedAt?: Date | null;
}

function row(s: NewSubscriber) {
  return {
    email: s.email,
    email_hash: s.emailHash,
    name: s.name,
    language: s.language,
    status: s.status,
    frequency: s.frequency,
    sources: s.sources,
    networks: s.networks,
    confirmed_at: s.confirmedAt ?? null,
  };
}

export async function findSubscriberByEmail(db: Db, email: string): Promise<Subscriber | undefined> {
  return db.selectFrom('subscribers').select(columns).where('email', '=', email).executeTakeFirst() as Promise<Subscriber | undefined>;
}

export async function findSubscriberById(db: Db, id: string): Promise<Subscriber | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  return db.selectFrom('subscribers').select(columns).where('id', '=', id).executeTakeFirst() as Promise<Subscriber | undefined>;
}

export async function insertSubscriber(db: Db, s: NewSubscriber): Promise<Subscriber> {
  return db.insertInto('subscribers').values(row(s)).returning(columns).executeTakeFirstOrThrow() as Promise<Subscriber>;
}

export interface SubscriberChanges {
  name?: string | null;
  language?: 'fr' | 'en';
  status?: SubscriberStatus;
  frequency?: Frequency;
  sources?: Source[];
  networks?: string[];
  confirmedAt?: Date | null;
  unsubscribedAt?: Date | null;
}

export async function updateSubscriber(db: Db, id: string, c: SubscriberChanges): Promise<Subscriber> {
  return db
    .updateTable('subscribers')
    .set({
      ...(c.name !== undefined ? { name: c.name } : {}),
      ...(c.language ? { language: c.language } : {}),
      ...(c.status ? { status: c.status } : {}),
      ...(c.frequency ? { frequency: c.frequency } : {}),
      ...(c.sources ? { sources: c.sources } : {}),
      ...(c.networks ? { networks: c.networks } : {}),
      ...(c.confirmedAt !== undefined ? { confirmed_at: c.confirmedAt } : {}),
      ...(c.unsubscribedAt !== undefined ? { unsubscribed_at: c.unsubscribedAt } : {}),
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirstOrThrow() as Promise<Subscriber>;
}

export async function deleteSubscriber(db: Db, id: string): Promise<void> {
  await db.deleteFrom('subscribers').where('id', '=', id).execute();
}

export interface ConsentEntry {
  subscriberId: string;
  action: string;
  method: ConsentMethod;
  legalBasis?: string;
  textVersion: string;
  text?: string;
}

export async function insertConsents(db: Db, entries: ConsentEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto('subscriber_consents')
    .values(
      entries.map((e) => ({
        subscriber_id: e.subscriberId,
        action: e.action,
        method: e.method,
        legal_basis: e.legalBasis ?? 'consent',
        text_version: e.textVersion,
        text: e.text ?? '',
      })),
    )
    .execute();
}

export async function listConsents(db: Db, subscriberId: string) {
  return db
    .selectFrom('subscriber_consents')
    .select(['action', 'method', 'legal_basis as legalBasis', 'text_version as textVersion', 'text', 'created_at as createdAt'])
    .where('subscriber_id', '=', subscriberId)
    .orderBy('created_at')
    .execute();
}

export async function listDeliveriesOf(db: Db, subscriberId: string) {
  return db
    .selectFrom('newsletter_deliveries')
    .innerJoin('newsletter_issues', 'newsletter_issues.id', 'newsletter_deliveries.issue_id')
    .select([
      'newsletter_issues.id as issueId',
      'newsletter_issues.subject',
      'newsletter_deliveries.status',
      'newsletter_deliveries.sent_at as sentAt',
    ])
    .where('newsletter_deliveries.subscriber_id', '=', subscriberId)
    .orderBy('newsletter_issues.created_at')
    .execute();
}

// Suppression list ----------------------------------------------------------------------------

export async function suppress(db: Db, emailHash: string, reason: 'erased' | 'unsubscribed' | 'bounced'): Promise<void> {
  // Erasure is the strongest reason and is never downgraded.
  await db
    .insertInto('email_suppressions')
    .values({ email_hash: emailHash, reason })
    .onConflict((oc) =>
      oc
        .column('email_hash')
        .doUpdateSet({ reason: sql`case when email_suppressions.reason = 'erased' then 'erased' else excluded.reason end` }),
    )
    .execute();
}

export async function unsuppress(db: Db, emailHash: string): Promise<void> {
  await db.deleteFrom('email_suppressions').where('email_hash', '=', emailHash).execute();
}

// Bulk (import, export) -----------------------------------------------------------------------

export async function insertSubscribers(db: Db, list: NewSubscriber[]): Promise<Array<{ id: string; email: string }>> {
  if (list.length === 0) return [];
  return db
    .insertInto('subscribers')
    .values(list.map(row))
    .onConflict((oc) => oc.column('email').doNothing())
    .returning(['id', 'email'])
    .execute();
}

export interface ImportedRows {
  emails: string[];
  hashes: string[];
  names: Array<string | null>;
  languages: Array<'fr' | 'en'>;
}

export interface ImportCommon {
  status: SubscriberStatus;
  frequency: Frequency;
  sources: Source[];
  confirmedAt: Date | null;
  consent: { action: string; method: ConsentMethod; legalBasis: string; textVersion: string };
  /** Return the ids of the rows added (to email them); otherwise only how many. */
  returnIds?: boolean;
}

export interface ImportedBatch {
  imported: number;
  /** On the suppression list (erased, unsubscribed long ago) or known as unsubscribed or erased. */
  suppressed: number;
  alreadyKnown: number;
  ids: string[];
}

/** One line per value, split again in SQL: the embedded database's driver serialises an array
 * parameter element by element in JavaScript (about 1.3 µs each), a string in one piece. No
 * imported value can hold a line break (addresses are validated, names cleaned), the check says so.
 * An empty string stands for null (names are never empty: see cleanName); a lone empty string
 * gives an empty array, which unnest() pads with null all the same. */
function lines(values: Array<string | null>): string {
  return values
    .map((v) => {
      if (v?.includes('\n')) throw new Error('An imported value holds a line break');
      return v ?? '';
    })
    .join('\n');
}

/** One statement per batch of an import: checks every row against the subscribers and the
 * suppression list (hashes), inserts the new ones with their consent row, and counts the others.
 * The ids are made here: gen_random_uuid() costs about 4 µs each in the embedded database (its
 * random source goes through the WebAssembly layer), two per row. An address added meanwhile by
 * someone else is skipped (on conflict), and so is its consent row. */
export async function importBatch(db: Db, rows: ImportedRows, c: ImportCommon): Promise<ImportedBatch> {
  if (rows.emails.length === 0) return { imported: 0, suppressed: 0, alreadyKnown: 0, ids: [] };
  const ids = rows.emails.map(() => randomUUID());
  const consentIds = rows.emails.map(() => randomUUID());
  const result = await sql<{ imported: number; suppressed: number; known: number; ids: string[] | null }>`
    with input as materialized (
      select * from unnest(
        string_to_array(${lines(ids)}, E'\n')::uuid[], string_to_array(${lines(rows.emails)}, E'\n'),
        string_to_array(${lines(rows.hashes)}, E'\n'), string_to_array(${lines(rows.names)}, E'\n', ''),
        string_to_array(${lines(rows.languages)}, E'\n'), string_to_array(${lines(consentIds)}, E'\n')::uuid[]
      ) as r(id, email, hash, name, language, consent_id)
    ), known as materialized (
      -- "= any(array)": one index scan with every address as its key, whatever the table's size.
      select email, status from subscribers where email = any(array(select email from input))
    ), listed as materialized (
      select email_hash from email_suppressions where email_hash = any(array(select hash from input))
    ), checked as materialized (
      select r.*, k.status is not null as known,
             l.email_hash is not null or coalesce(k.status in ('unsubscribed', 'erased'), false) as barred
        from input r
        left join known k on k.email = r.email
        left join listed l on l.email_hash = r.hash
    ), added as (
      insert into subscribers (id, email, email_hash, name, language, status, frequency, sources, confirmed_at)
      select id, email, hash, name, language, ${c.status}, ${c.frequency}, ${sql.val(c.sources)}::text[], ${c.confirmedAt}
        from checked where not barred and not known
      on conflict (email) do nothing
      returning id
    ), logged as (
      insert into subscriber_consents (id, subscriber_id, action, method, legal_basis, text_version)
      select consent_id, id, ${c.consent.action}, ${c.consent.method}, ${c.consent.legalBasis}, ${c.consent.textVersion}
        from checked where id in (select id from added)
    )
    select (select count(*) from added)::int as imported,
           (count(*) filter (where barred))::int as suppressed,
           (count(*) filter (where known and not barred))::int as known,
           ${c.returnIds ? sql`(select array_agg(id)::text[] from added)` : sql`null::text[]`} as ids
      from checked`.execute(db);
  const r = result.rows[0]!;
  return { imported: r.imported, suppressed: r.suppressed, alreadyKnown: r.known, ids: r.ids ?? [] };
}

export async function listSubscribersPage(db: Db, afterEmail: string, limit: number): Promise<Subscriber[]> {
  return db
    .selectFrom('subscribers')
    .select(columns)
    .where('email', '>', afterEmail)
    .where('status', '!=', 'erased')
    .orderBy('email')
    .limit(limit)
    .execute() as Promise<Subscriber[]>;
}

export async function countByStatus(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('subscribers')
    .select(['status', db.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

// Retention -------------------------------------------------------------------------------------

/** An address that follows a group by email (confirmed) is kept whatever its newsletter status. */
const followsAGroup = sql<boolean>`exists (select 1 from discussion_email_followers f where f.subscriber_id = subscribers.id and f.status = 'active')`;

export async function deleteUnconfirmedBefore(db: Db, before: Date): Promise<number> {
  const result = await db
    .deleteFrom('subscribers')
    .where('status', '=', 'pending')
    .where('created_at', '<', before)
    .where(sql<boolean>`not ${followsAGroup}`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Unsubscribed for longer than the retention delay: keep only the hash (suppression), drop the rest. */
export async function purgeUnsubscribedBefore(db: Db, before: Date): Promise<number> {
  const old = await db
    .selectFrom('subscribers')
    .select(['id', 'email_hash'])
    .where('status', '=', 'unsubscribed')
    .where('unsubscribed_at', '<', before)
    .where(sql<boolean>`not ${followsAGroup}`)
    .limit(1000)
    .execute();
  for (const s of old) await suppress(db, s.email_hash, 'unsubscribed');
  if (old.length > 0)
    await db
      .deleteFrom('subscribers')
      .where(
        'id',
        'in',
        old.map((s) => s.id),
      )
      .execute();
  return old.length;
}

export async function recordBounce(db: Db, id: string, threshold: number): Promise<void> {
  await db
    .updateTable('subscribers')
    .set({
      bounce_count: sql`bounce_count + 1`,
      status: sql`case when bounce_count + 1 >= ${threshold} and status = 'active' then 'bouncing' else status end`,
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .execute();
}

export async function resetBounces(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('subscribers').set({ bounce_count: 0 }).where('id', 'in', ids).where('bounce_count', '>', 0).execute();
}
