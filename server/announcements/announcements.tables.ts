import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface AnnouncementsTable {
  id: Generated<string>;
  /** The ActivityPub id; for local ones `${PUBLIC_URL}/announcements/${id}`. */
  ap_id: string;
  origin: 'local' | 'remote';
  /** The ActivityPub actor of the network it came from (null for local ones). */
  actor_id: string | null;
  network_name: string | null;
  /** e.g. aura@amap-aura.org */
  network_handle: string | null;
  author_user_id: string | null;
  title: string;
  /** Plain-text excerpt. */
  summary: Generated<string>;
  /** True when the summary was generated from the body (it follows the body when edited). */
  summary_auto: Generated<boolean>;
  /** Source of local announcements. */
  body_markdown: string | null;
  /** Sanitized HTML, for both local and remote ones. */
  content_html: Generated<string>;
  /** Public page. */
  url: string;
  image_url: string | null;
  image_alt: string | null;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  status: ColumnType<'draft' | 'published', 'draft' | 'published' | undefined, 'draft' | 'published'>;
  published_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: Date | null;
}

export interface AnnouncementTables {
  announcements: AnnouncementsTable;
}
