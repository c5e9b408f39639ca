// The discussions capability's tables (migrations/2026-11-29-0010-discussions.ts).
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export type LocalActorKind = 'group' | 'person';
export type Visibility = 'public' | 'members';
export type PostStatus = 'visible' | 'held' | 'removed';
export type MembershipStatus = 'pending' | 'accepted' | 'banned';

export interface LocalActorsTable {
  id: Generated<string>;
  username: string;
  kind: LocalActorKind;
  rsa_private_jwk: Json<JsonWebKey>;
  rsa_public_jwk: Json<JsonWebKey>;
  created_at: Timestamp;
}

export interface DiscussionMembersTable {
  id: Generated<string>;
  email: string;
  display_name: string | null;
  locale: Generated<string>;
  actor_id: string;
  user_id: string | null;
  created_at: Timestamp;
  last_sign_in_at: Date | null;
}

export interface DiscussionSignInTokensTable {
  token_hash: string;
  email: string;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  used_at: Date | null;
  created_at: Timestamp;
}

export interface DiscussionSessionsTable {
  id_hash: string;
  member_id: string;
  created_at: Timestamp;
  expires_at: ColumnType<Date, Date | string, Date | string>;
}

export interface DiscussionGroupsTable {
  id: Generated<string>;
  actor_id: string | null;
  ap_id: string;
  origin: 'local' | 'remote';
  handle: string;
  name: string;
  summary: Generated<string>;
  inbox: string | null;
  shared_inbox: string | null;
  visibility: Generated<Visibility>;
  join_policy: Generated<'open' | 'approval'>;
  created_at: Timestamp;
  last_activity_at: Timestamp;
  deleted_at: Date | null;
}

export interface DiscussionMembershipsTable {
  id: Generated<string>;
  group_id: string;
  actor_ap_id: string;
  member_id: string | null;
  handle: string | null;
  name: string | null;
  inbox: string | null;
  shared_inbox: string | null;
  host: string;
  role: Generated<'member' | 'moderator'>;
  status: MembershipStatus;
  follow_activity_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface DiscussionPostsTable {
  id: Generated<string>;
  ap_id: string;
  url: string;
  origin: 'local' | 'remote';
  author_ap_id: string;
  author_member_id: string | null;
  author_name: string;
  author_handle: string;
  group_id: string | null;
  announcement_id: string | null;
  resource_id: string | null;
  in_reply_to: string | null;
  thread_id: string | null;
  depth: Generated<number>;
  title: string | null;
  content_html: string;
  content_text: string;
  tags: Generated<string[]>;
  mentions: Generated<string[]>;
  visibility: Generated<Visibility>;
  status: Generated<PostStatus>;
  reply_count: Generated<number>;
  published_at: Timestamp;
  updated_at: Date | null;
  last_activity_at: Timestamp;
  created_at: Timestamp;
  /** When it became visible here (stored, or approved): what the daily digest goes by. */
  visible_at: Timestamp;
}

export interface DiscussionReportsTable {
  id: Generated<string>;
  post_id: string | null;
  post_ap_id: string;
  reporter: string;
  reason: string;
  status: Generated<'open' | 'resolved' | 'dismissed'>;
  forwarded: Generated<boolean>;
  created_at: Timestamp;
  resolved_at: Date | null;
}

export interface ModerationLogTable {
  id: Generated<string>;
  at: Timestamp;
  moderator: string;
  action: string;
  target: string;
  group_id: string | null;
  reason: string;
}

export interface DiscussionEmailFollowersTable {
  group_id: string;
  subscriber_id: string;
  created_at: Timestamp;
  last_sent_at: Date | null;
  /** migrations/2026-11-29-0025-digest-followers.ts: double opt-in. */
  status: Generated<'pending' | 'active'>;
  confirmed_at: Date | null;
}

/** migrations/2026-11-29-0015-discussion-bans.ts: group_id null = every group of the instance. */
export interface DiscussionBansTable {
  id: Generated<string>;
  group_id: string | null;
  kind: 'actor' | 'host';
  value: string;
  moderator: string;
  reason: string;
  created_at: Timestamp;
}

export interface DiscussionTables {
  local_actors: LocalActorsTable;
  discussion_members: DiscussionMembersTable;
  discussion_sign_in_tokens: DiscussionSignInTokensTable;
  discussion_sessions: DiscussionSessionsTable;
  discussion_groups: DiscussionGroupsTable;
  discussion_memberships: DiscussionMembershipsTable;
  discussion_posts: DiscussionPostsTable;
  discussion_reports: DiscussionReportsTable;
  moderation_log: ModerationLogTable;
  discussion_email_followers: DiscussionEmailFollowersTable;
  discussion_bans: DiscussionBansTable;
}
