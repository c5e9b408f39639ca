import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type IssueKind = 'manual' | 'weekly' | 'monthly' | 'alert';
export type IssueStatus = 'draft' | 'scheduled' | 'sending' | 'paused' | 'sent' | 'cancelled';
export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'skipped';

export interface NewsletterIssuesTable {
  id: Generated<string>;
  kind: ColumnType<IssueKind, IssueKind | undefined, IssueKind>;
  subject: string;
  introduction: ColumnType<string, string | undefined, string>;
  /** The announcements in the issue, in order. */
  announcement_ids: ColumnType<string[], string[] | undefined, string[]>;
  /** The shared resources featured in the issue (links to their pages), in order. */
  resource_ids: ColumnType<string[], string[] | undefined, string[]>;
  status: ColumnType<IssueStatus, IssueStatus | undefined, IssueStatus>;
  scheduled_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  /** Digests and alerts: announcements published up to this moment are covered. */
  covers_until: Date | null;
  html_bytes: number | null;
  allow_oversize: ColumnType<boolean, boolean | undefined, boolean>;
  total: ColumnType<number, number | undefined, number>;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface NewsletterDeliveriesTable {
  issue_id: string;
  subscriber_id: string;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp;
  claimed_at: Date | null;
  sent_at: Date | null;
  last_error: string | null;
}

export interface NewsletterTables {
  newsletter_issues: NewsletterIssuesTable;
  newsletter_deliveries: NewsletterDeliveriesTable;
}
