// Taking an issue's audience writes one delivery row per subscriber: 50,000 rows in one statement.
// Its two foreign keys checked each row with a query of its own (about 40 % of that statement's
// time) and the queue index, which no query reads any more (claims walk the primary key), was
// updated on every change of status. Both go (ADR 0009), and pages keep room for updates in
// place. What the foreign keys' cascades did is done once per statement by the triggers below: a
// deleted subscriber or issue takes its deliveries with it. A delivery whose subscriber
// disappears in between is skipped by the sender.
// Frozen in time: this file imports nothing from server/.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table newsletter_deliveries
    drop constraint newsletter_deliveries_issue_id_fkey,
    drop constraint newsletter_deliveries_subscriber_id_fkey`.execute(db);
  await sql`drop index newsletter_deliveries_queue_idx`.execute(db);
  // Each row is updated twice (claimed, then sent). With no indexed column changing and room left
  // on its page, PostgreSQL updates it in place (HOT) without new index entries: half of the
  // updates were, and they took 25 % less time in all (100,000 rows, psql).
  await sql`alter table newsletter_deliveries set (fillfactor = 50)`.execute(db);

  await sql`create function newsletter_deliveries_of_gone_subscribers() returns trigger language plpgsql as $$
    begin
      delete from newsletter_deliveries where subscriber_id in (select id from gone);
      return null;
    end $$`.execute(db);
  await sql`create trigger subscribers_take_their_deliveries after delete on subscribers
    referencing old table as gone for each statement
    execute function newsletter_deliveries_of_gone_subscribers()`.execute(db);

  await sql`create function newsletter_deliveries_of_gone_issues() returns trigger language plpgsql as $$
    begin
      delete from newsletter_deliveries where issue_id in (select id from gone);
      return null;
    end $$`.execute(db);
  await sql`create trigger newsletter_issues_take_their_deliveries after delete on newsletter_issues
    referencing old table as gone for each statement
    execute function newsletter_deliveries_of_gone_issues()`.execute(db);

  // Rows left behind by a delete that ran while an audience was being taken are removed here once;
  // afterwards the triggers keep the table clean.
  await sql`delete from newsletter_deliveries d
    where not exists (select 1 from subscribers s where s.id = d.subscriber_id)
       or not exists (select 1 from newsletter_issues i where i.id = d.issue_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger newsletter_issues_take_their_deliveries on newsletter_issues`.execute(db);
  await sql`drop function newsletter_deliveries_of_gone_issues()`.execute(db);
  await sql`drop trigger subscribers_take_their_deliveries on subscribers`.execute(db);
  await sql`drop function newsletter_deliveries_of_gone_subscribers()`.execute(db);
  await sql`delete from newsletter_deliveries d
    where not exists (select 1 from subscribers s where s.id = d.subscriber_id)
       or not exists (select 1 from newsletter_issues i where i.id = d.issue_id)`.execute(db);
  await sql`alter table newsletter_deliveries reset (fillfactor)`.execute(db);
  await sql`create index newsletter_deliveries_queue_idx on newsletter_deliveries (issue_id, status, next_attempt_at)`.execute(db);
  await sql`alter table newsletter_deliveries
    add constraint newsletter_deliveries_issue_id_fkey foreign key (issue_id) references newsletter_issues(id) on delete cascade,
    add constraint newsletter_deliveries_subscriber_id_fkey foreign key (subscriber_id) references subscribers(id) on delete cascade`.execute(
    db,
  );
}
