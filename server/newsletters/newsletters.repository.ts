// Storage of newsletter issues and of their deliveries (one row per issue and recipient).
// The delivery rows are the checkpoint of a send: a row is `sending` while its message is in
// flight and becomes `sent` only after the SMTP server accepted it.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Frequency, Source } from '../subscribers/subscribers.tables.ts';
import type { IssueKind, IssueStatus } from './newsletters.tables.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface Issue {
  id: string;
  kind: IssueKind;
  subject: string;
  introduction: string;
  announcementIds: string[];
  resourceIds: string[];
  status: IssueStatus;
  scheduledAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  coversUntil: Date | null;
  htmlBytes: number | null;
  allowOversize: boolean;
  total: number;
  createdAt: Date;
}

const issueColumns = [
  'id',
  'kind',
  'subject',
  'introduction',
  'announcement_ids as announcementIds',
  'resource_ids as resourceIds',
  'status',
  'scheduled_at as scheduledAt',
  'started_at as startedAt',
  'finished_at as finishedAt',
  'covers_until as coversUntil',
  'html_bytes as htmlBytes',
  'allow_oversize as allowOversize',
  'total',
  'created_at as createdAt',
] as const;

export interface NewIssue {
  kind: IssueKind;
  subject: string;
  introduction: string;
  announcementIds: string[];
  resourceIds?: string[];
  createdBy: string | null;
  coversUntil?: Date | null;
}

export async function insertIssue(db: Db, i: NewIssue): Promise<Issue> {
  return db
    .insertInto('newsletter_issues')
    .values({
      kind: i.kind,
      subject: i.subject,
      introduction: i.introduction,
      announcement_ids: i.announcementIds,
      resource_ids: i.resourceIds ?? [],
      created_by: i.createdBy,
      covers_until: i.coversUntil ?? null,
    })
    .returning(issueColumns)
    .executeTakeFirstOrThrow();
}

export async function findIssue(db: Db, id: string, lock = false): Promise<Issue | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  let q = db.selectFrom('newsletter_issues').select(issueColumns).where('id', '=', id);
  if (lock) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function listIssues(db: Db, limit = 50): Promise<Issue[]> {
  return db.selectFrom('newsletter_issues').select(issueColumns).orderBy('created_at', 'desc').limit(limit).execute();
}

export async function listSentIssues(db: Db, limit = 50): Promise<Issue[]> {
  return db
    .selectFrom('newsletter_issues')
    .select(issueColumns)
    .where('status', 'in', ['sending', 'sent'])
    .where('kind', '=', 'manual')
    .orderBy('started_at', 'desc')
    .limit(limit)
    .execute();
}

export interface IssueChanges {
  subject?: string;
  introduction?: string;
  announcementIds?: string[];
  resourceIds?: string[];
  status?: IssueStatus;
  scheduledAt?: Date | null;
  startedAt?: Date | null;
  finishedAt?: Date | null;
  htmlBytes?: number | null;
  allowOversize?: boolean;
  total?: number;
}

export async function updateIssue(db: Db, id: string, c: IssueChanges, onlyIfStatus?: IssueStatus[]): Promise<Issue | undefined> {
  let q = db
    .updateTable('newsletter_issues')
    .set({
      ...(c.subject !== undefined ? { subject: c.subject } : {}),
      ...(c.introduction !== undefined ? { introduction: c.introduction } : {}),
      ...(c.announcementIds !== undefined ? { announcement_ids: c.announcementIds } : {}),
      ...(c.resourceIds !== undefined ? { resource_ids: c.resourceIds } : {}),
      ...(c.status !== undefined ? { status: c.status } : {}),
      ...(c.scheduledAt !== undefined ? { scheduled_at: c.scheduledAt } : {}),
      ...(c.startedAt !== undefined ? { started_at: c.startedAt } : {}),
      ...(c.finishedAt !== undefined ? { finished_at: c.finishedAt } : {}),
      ...(c.htmlBytes !== undefined ? { html_bytes: c.htmlBytes } : {}),
      ...(c.allowOversize !== undefined ? { allow_oversize: c.allowOversize } : {}),
      ...(c.total !== undefined ? { total: c.total } : {}),
      updated_at: new Date(),
    })
    .where('id', '=', id);
  if (onlyIfStatus) q = q.where('status', 'in', onlyIfStatus);
  return q.returning(issueColumns).executeTakeFirst();
}

export async function issuesWithStatus(db: Db, status: IssueStatus): Promise<Issue[]> {
  return db.selectFrom('newsletter_issues').select(issueColumns).where('status', '=', status).execute();
}

export async function dueScheduledIssues(db: Db, now: Date): Promise<Issue[]> {
  return db
    .selectFrom('newsletter_issues')
    .select(issueColumns)
    .where('status', '=', 'scheduled')
    .where('scheduled_at', '<=', now)
    .execute();
}

/** The newest issue of this kind that went out (or is going out). */
export async function lastIssueOfKind(db: Db, kind: IssueKind): Promise<Issue | undefined> {
  return db
    .selectFrom('newsletter_issues')
    .select(issueColumns)
    .where('kind', '=', kind)
    .where('status', 'in', ['sending', 'sent', 'paused'])
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export interface AudienceFilter {
  /** Only subscribers with this frequency (digests, alerts); all active ones for a manual issue. */
  frequency?: Frequency;
  /** Only subscribers whose sources or networks overlap these (digests, alerts). */
  sources?: Source[];
  networks?: string[];
}

/** Creates one pending delivery per recipient, in the caller's transaction; returns how many. */
export async function createDeliveries(db: Db, issueId: string, filter: AudienceFilter): Promise<number> {
  let audience = db
    .selectFrom('subscribers')
    .select([sql<string>`${issueId}::uuid`.as('issue_id'), 'id as subscriber_id'])
    .where('status', '=', 'active');
  if (filter.frequency) audience = audience.where('frequency', '=', filter.frequency);
  if (filter.sources || filter.networks) {
    const sources = filter.sources ?? [];
    const networks = filter.networks ?? [];
    audience = audience.where((eb) =>
      eb.or([eb(sql`sources`, '&&', sql`${sql.val(sources)}::text[]`), eb(sql`networks`, '&&', sql`${sql.val(networks)}::text[]`)]),
    );
  }
  const result = await db
    .insertInto('newsletter_deliveries')
    .columns(['issue_id', 'subscriber_id'])
    // In key order: the primary key's index then grows at its end instead of splitting pages all
    // over (the subscribers' ids are random UUIDs).
    .expression(audience.orderBy('id'))
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  const inserted = Number(result.numInsertedOrUpdatedRows ?? 0);
  // Fresh statistics for the claims that follow: without them the planner guesses a handful of
  // rows and scans every pending delivery on each claim (the embedded database has no autovacuum
  // to analyze for it). Samples at most 30,000 rows, whatever the table's size.
  if (inserted >= 1000) await sql`analyze newsletter_deliveries`.execute(db);
  return inserted;
}

export interface ClaimedDelivery {
  subscriberId: string;
  email: string;
  name: string | null;
  language: 'fr' | 'en';
  subscriberStatus: string;
  sources: Source[];
  networks: string[];
  attempts: number;
  bounceCount: number;
}

/**
 * Takes up to `limit` deliveries to send now: pending ones whose time has come, and `sending` ones
 * whose claim is older than `leaseSeconds` (their process died with them in flight). SKIP LOCKED
 * lets several workers claim from the same issue without waiting for each other.
 *
 * In subscriber order after `after` (keyset pagination: the primary key index starts right at the
 * cursor, instead of walking past every row already sent, which made each claim cost O(rows sent)
 * and a whole send quadratic).
 *
 * A delivery whose subscriber is gone (deleted while the audience was being taken: the table has
 * no foreign key, ADR 0009) comes back with the status `erased`, and the sender skips it.
 */
export async function claimDeliveries(
  db: Db,
  issueId: string,
  limit: number,
  leaseSeconds: number,
  after: string | null = null,
  /** The subscriber's sources and networks, which only digests and alerts read: an issue written
   * by an editor goes to everyone, and parsing two arrays per row is not free on PGlite. */
  withChoices = true,
): Promise<ClaimedDelivery[]> {
  const choices = withChoices
    ? sql`coalesce(s.sources, '{}') as sources, coalesce(s.networks, '{}') as networks`
    : sql`'{}'::text[] as sources, '{}'::text[] as networks`;
  const result = await sql<ClaimedDelivery>`
    with picked as (
      select subscriber_id from newsletter_deliveries
      where issue_id = ${issueId}
        and ${after === null ? sql`true` : sql`subscriber_id > ${after}`}
        and ((status = 'pending' and next_attempt_at <= now())
          or (status = 'sending' and claimed_at < now() - make_interval(secs => ${leaseSeconds})))
      order by subscriber_id
      limit ${limit}
      for update skip locked
    )
    update newsletter_deliveries d
       set status = 'sending', claimed_at = now(), attempts = d.attempts + 1
      from picked left join subscribers s on s.id = picked.subscriber_id
     where d.issue_id = ${issueId} and d.subscriber_id = picked.subscriber_id
    returning d.subscriber_id as "subscriberId", coalesce(s.email, '') as email, s.name,
              coalesce(s.language, 'fr') as language, coalesce(s.status, 'erased') as "subscriberStatus",
              ${choices}, d.attempts,
              coalesce(s.bounce_count, 0) as "bounceCount"`.execute(db);
  return result.rows;
}

/** `column = any($1::uuid[])`: one parameter and a short statement, however many ids (an
 * `in` list made a statement of 100 parameters to parse and plan for each chunk of the send). */
function anyOf(column: 'subscriber_id', ids: string[]) {
  return sql<boolean>`${sql.ref(column)} = any(${ids}::uuid[])`;
}

export async function markSent(db: Db, issueId: string, subscriberIds: string[]): Promise<void> {
  if (subscriberIds.length === 0) return;
  await db
    .updateTable('newsletter_deliveries')
    .set({ status: 'sent', sent_at: new Date(), claimed_at: null, last_error: null })
    .where('issue_id', '=', issueId)
    .where(anyOf('subscriber_id', subscriberIds))
    .execute();
}

/** Gives back claimed deliveries that were not attempted (the send was paused): pending again,
 * the attempt not counted. */
export async function releaseDeliveries(db: Db, issueId: string, subscriberIds: string[]): Promise<void> {
  if (subscriberIds.length === 0) return;
  await db
    .updateTable('newsletter_deliveries')
    .set({ status: 'pending', claimed_at: null, attempts: sql`greatest(attempts - 1, 0)` })
    .where('issue_id', '=', issueId)
    .where('status', '=', 'sending')
    .where(anyOf('subscriber_id', subscriberIds))
    .execute();
}

export async function markSkipped(db: Db, issueId: string, subscriberIds: string[]): Promise<void> {
  if (subscriberIds.length === 0) return;
  await db
    .updateTable('newsletter_deliveries')
    .set({ status: 'skipped', claimed_at: null })
    .where('issue_id', '=', issueId)
    .where(anyOf('subscriber_id', subscriberIds))
    .execute();
}

export async function markRetry(db: Db, issueId: string, subscriberId: string, error: string, retryAt: Date): Promise<void> {
  await db
    .updateTable('newsletter_deliveries')
    .set({ status: 'pending', claimed_at: null, next_attempt_at: retryAt, last_error: error.slice(0, 500) })
    .where('issue_id', '=', issueId)
    .where('subscriber_id', '=', subscriberId)
    .execute();
}

export async function markFailed(db: Db, issueId: string, subscriberId: string, error: string): Promise<void> {
  await db
    .updateTable('newsletter_deliveries')
    .set({ status: 'failed', claimed_at: null, last_error: error.slice(0, 500) })
    .where('issue_id', '=', issueId)
    .where('subscriber_id', '=', subscriberId)
    .execute();
}

/** What is left to do on a cancelled issue is not done. */
export async function skipRemaining(db: Db, issueId: string): Promise<void> {
  await db
    .updateTable('newsletter_deliveries')
    .set({ status: 'skipped', claimed_at: null })
    .where('issue_id', '=', issueId)
    .where('status', '=', 'pending')
    .execute();
}

export interface DeliveryCounts {
  pending: number;
  sending: number;
  sent: number;
  failed: number;
  skipped: number;
  sentLastMinute: number;
  nextAttemptAt: Date | null;
}

export async function deliveryCounts(db: Db, issueId: string): Promise<DeliveryCounts> {
  const row = await sql<DeliveryCounts>`
    select count(*) filter (where status = 'pending')::int as pending,
           count(*) filter (where status = 'sending')::int as sending,
           count(*) filter (where status = 'sent')::int as sent,
           count(*) filter (where status = 'failed')::int as failed,
           count(*) filter (where status = 'skipped')::int as skipped,
           count(*) filter (where status = 'sent' and sent_at > now() - interval '60 seconds')::int as "sentLastMinute",
           min(case when status = 'pending' then next_attempt_at when status = 'sending' then claimed_at end) as "nextAttemptAt"
      from newsletter_deliveries where issue_id = ${issueId}`.execute(db);
  return row.rows[0]!;
}
