import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type SubscriberStatus = 'pending' | 'active' | 'unsubscribed' | 'bouncing' | 'erased';
export type Frequency = 'alert' | 'weekly' | 'monthly';
/** What a subscriber wants to hear about (regional networks are chosen in `networks`). */
export type Source = 'network' | 'national' | 'resources';
export type ConsentMethod = 'form' | 'import' | 'admin' | 'api';

export interface SubscribersTable {
  id: Generated<string>;
  /** Trimmed, lower-case. */
  email: string;
  /** SHA-256 of `email`, hex: matches the suppression list. */
  email_hash: string;
  name: string | null;
  language: ColumnType<'fr' | 'en', 'fr' | 'en' | undefined, 'fr' | 'en'>;
  status: ColumnType<SubscriberStatus, SubscriberStatus | undefined, SubscriberStatus>;
  frequency: ColumnType<Frequency, Frequency | undefined, Frequency>;
  sources: ColumnType<Source[], Source[] | undefined, Source[]>;
  /** On the national instance: the regional networks (handles) chosen. */
  networks: ColumnType<string[], string[] | undefined, string[]>;
  bounce_count: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  confirmed_at: Date | null;
  unsubscribed_at: Date | null;
}

export interface SubscriberConsentsTable {
  id: Generated<string>;
  subscriber_id: string;
  /** subscribe, confirm, preferences, unsubscribe, import, repermission... */
  action: string;
  method: ConsentMethod;
  legal_basis: ColumnType<string, string | undefined, string>;
  text_version: string;
  text: ColumnType<string, string | undefined, string>;
  created_at: Timestamp;
}

export interface EmailSuppressionsTable {
  email_hash: string;
  reason: 'erased' | 'unsubscribed' | 'bounced';
  created_at: Timestamp;
}

/** A CSV import started from the admin page (import-progress.ts). */
export interface SubscriberImportsTable {
  id: string;
  started_at: Timestamp;
  updated_at: Timestamp;
  finished_at: Date | null;
  done: ColumnType<number, number | undefined, number>;
  total: ColumnType<number, number | undefined, number>;
  /** ImportReport, once finished. */
  report: ColumnType<unknown, string | undefined, string>;
  error: string | null;
}

export interface SubscriberTables {
  subscribers: SubscribersTable;
  subscriber_imports: SubscriberImportsTable;
  subscriber_consents: SubscriberConsentsTable;
  email_suppressions: EmailSuppressionsTable;
}
