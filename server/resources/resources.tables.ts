import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type Audience = 'amaps' | 'farmers' | 'networks' | 'everyone';
export type ResourceStatus = 'published' | 'unpublished';

export interface ResourcesTable {
  id: Generated<string>;
  /** The ActivityPub id; for local ones `${PUBLIC_URL}/resources/${id}` (the public page). */
  ap_id: string;
  origin: 'local' | 'remote';
  /** The ActivityPub actor of the network it came from (null for local ones). */
  actor_id: string | null;
  network_name: string | null;
  network_handle: string | null;
  author_user_id: string | null;
  author_name: string;
  title: string;
  description_markdown: string | null;
  /** Sanitized HTML. */
  description_html: ColumnType<string, string | undefined, string>;
  summary: ColumnType<string, string | undefined, string>;
  link_url: string | null;
  /** The public page (local) or the page on the network it came from (remote). */
  url: string;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  audience: Audience;
  language: ColumnType<string, string | undefined, string>;
  licence: string;
  formats: ColumnType<string[], string[] | undefined, string[]>;
  status: ColumnType<ResourceStatus, ResourceStatus | undefined, ResourceStatus>;
  search_vector: ColumnType<string, string | undefined, string>;
  published_at: Timestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ResourceFilesTable {
  id: Generated<string>;
  resource_id: string;
  slot: number;
  version: number;
  name: string;
  kind: string | null;
  media_type: string;
  size: number | null;
  hash: string | null;
  remote_url: string | null;
  uploaded_by: string | null;
  created_at: Timestamp;
}

export interface ResourceTables {
  resources: ResourcesTable;
  resource_files: ResourceFilesTable;
}
