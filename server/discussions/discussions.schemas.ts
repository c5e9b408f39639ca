// The shapes of the discussions REST API (validated on the way in, documented in OpenAPI), and
// the conversion of rows to them.
import { Type } from 'typebox';
import { POST_LIMITS } from './discussions.text.ts';
import type { GroupRow } from './groups.repository.ts';
import type { MembershipRow } from './memberships.repository.ts';
import type { BanRow, ModerationLogRow, ReportRow } from './moderation.repository.ts';
import type { PostRow } from './posts.repository.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const Visibility = Type.Union([Type.Literal('public'), Type.Literal('members')], {
  description: 'public: readable by all; members: only by accepted members',
});
const JoinPolicy = Type.Union([Type.Literal('open'), Type.Literal('approval')], {
  description: 'open: joining is immediate; approval: a moderator decides',
});

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
    requestId: Type.Optional(Type.String()),
  }),
});
export const errors = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
  410: ErrorSchema,
  415: ErrorSchema,
  429: ErrorSchema,
};

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const PageQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
});

export const GroupSchema = Type.Object({
  id: Type.String(),
  apId: Type.String({ description: 'ActivityPub id of the Group actor' }),
  origin: Type.Union([Type.Literal('local'), Type.Literal('remote')]),
  username: Nullable(Type.String({ description: 'Local groups: the actor username (page /groups/{username})' })),
  handle: Type.String({ description: 'username@host' }),
  name: Type.String(),
  summary: Type.String(),
  visibility: Visibility,
  joinPolicy: JoinPolicy,
  members: Type.Optional(Type.Integer()),
  createdAt: DateTime,
  lastActivityAt: DateTime,
});

export const CreateGroupSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 120 }),
  username: Type.String({ pattern: '^[a-z0-9_]{1,30}$', description: 'Actor username, unique on this instance' }),
  summary: Type.Optional(Type.String({ maxLength: 2000 })),
  visibility: Type.Optional(Visibility),
  joinPolicy: Type.Optional(JoinPolicy),
});

export const UpdateGroupSchema = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
  summary: Type.Optional(Type.String({ maxLength: 2000 })),
  visibility: Type.Optional(Visibility),
  joinPolicy: Type.Optional(JoinPolicy),
});

export const PostSchema = Type.Object({
  id: Type.String(),
  apId: Type.String(),
  url: Type.String(),
  origin: Type.Union([Type.Literal('local'), Type.Literal('remote')]),
  author: Type.Object({ apId: Type.String(), name: Type.String(), handle: Type.String() }),
  groupId: Nullable(Type.String()),
  announcementId: Nullable(Type.String()),
  resourceId: Nullable(Type.String()),
  inReplyTo: Nullable(Type.String()),
  threadId: Nullable(Type.String()),
  depth: Type.Integer({ description: 'Display depth (0 for a first post; at most 8)' }),
  title: Nullable(Type.String()),
  contentHtml: Type.String({ description: 'Sanitized HTML (empty once removed)' }),
  tags: Type.Array(Type.String()),
  mentions: Type.Array(Type.String()),
  visibility: Visibility,
  status: Type.Union([Type.Literal('visible'), Type.Literal('held'), Type.Literal('removed')]),
  replyCount: Type.Integer(),
  publishedAt: DateTime,
  updatedAt: Nullable(DateTime),
  lastActivityAt: DateTime,
});

export const PostPageSchema = Type.Object({
  items: Type.Array(PostSchema),
  page: Type.Integer(),
  limit: Type.Integer(),
  hasMore: Type.Boolean(),
  total: Type.Optional(Type.Integer()),
});

const Markdown = Type.String({ minLength: 1, maxLength: POST_LIMITS.markdown, description: 'Markdown; @user@host and #tags become links' });
export const ComposeSchema = Type.Object({ title: Type.Optional(Type.String({ maxLength: POST_LIMITS.title })), body: Markdown });
export const ReplySchema = Type.Object({ body: Markdown });
export const EditPostSchema = Type.Object({
  title: Type.Optional(Nullable(Type.String({ maxLength: POST_LIMITS.title }))),
  body: Markdown,
});
export const CommentSchema = Type.Object({
  announcementId: Type.Optional(Type.String({ format: 'uuid' })),
  resourceId: Type.Optional(Type.String({ format: 'uuid' })),
  body: Markdown,
});
export const ReasonSchema = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) });

export const MembershipSchema = Type.Object({
  groupId: Type.String(),
  actor: Type.String(),
  handle: Nullable(Type.String()),
  name: Nullable(Type.String()),
  local: Type.Boolean(),
  role: Type.Union([Type.Literal('member'), Type.Literal('moderator')]),
  status: Type.Union([Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('banned')]),
  since: DateTime,
});

export const ReportSchema = Type.Object({
  id: Type.String(),
  postId: Nullable(Type.String()),
  postApId: Type.String(),
  reporter: Type.String(),
  reason: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('resolved'), Type.Literal('dismissed')]),
  forwarded: Type.Boolean(),
  createdAt: DateTime,
});

export const BanSchema = Type.Object({
  id: Type.String(),
  groupId: Nullable(Type.String({ description: 'null: every group and comment of this instance' })),
  kind: Type.Union([Type.Literal('actor'), Type.Literal('host')]),
  value: Type.String(),
  moderator: Type.String(),
  reason: Type.String(),
  createdAt: DateTime,
});

export const LogSchema = Type.Object({
  id: Type.String(),
  at: DateTime,
  moderator: Type.String(),
  action: Type.String(),
  target: Type.String(),
  groupId: Nullable(Type.String()),
  reason: Type.String(),
});

export const MemberSchema = Type.Object({
  id: Type.String(),
  displayName: Nullable(Type.String()),
  handle: Type.String(),
  actor: Type.String(),
  locale: Type.String(),
  staff: Type.Boolean(),
});

const iso = (d: Date | string) => new Date(d).toISOString();

export function groupJson(g: GroupRow, members?: number) {
  return {
    id: g.id,
    apId: g.ap_id,
    origin: g.origin,
    username: g.username,
    handle: g.handle,
    name: g.name,
    summary: g.summary,
    visibility: g.visibility,
    joinPolicy: g.join_policy,
    ...(members !== undefined ? { members } : {}),
    createdAt: iso(g.created_at),
    lastActivityAt: iso(g.last_activity_at),
  };
}

export function postJson(p: PostRow) {
  return {
    id: p.id,
    apId: p.ap_id,
    url: p.url,
    origin: p.origin,
    author: { apId: p.author_ap_id, name: p.author_name, handle: p.author_handle },
    groupId: p.group_id,
    announcementId: p.announcement_id,
    resourceId: p.resource_id,
    inReplyTo: p.in_reply_to,
    threadId: p.thread_id,
    depth: p.depth,
    title: p.status === 'removed' ? null : p.title,
    contentHtml: p.status === 'removed' ? '' : p.content_html,
    tags: p.status === 'removed' ? [] : p.tags,
    mentions: p.status === 'removed' ? [] : p.mentions,
    visibility: p.visibility,
    status: p.status,
    replyCount: p.reply_count,
    publishedAt: iso(p.published_at),
    updatedAt: p.updated_at ? iso(p.updated_at) : null,
    lastActivityAt: iso(p.last_activity_at),
  };
}

export function membershipJson(m: MembershipRow) {
  return {
    groupId: m.group_id,
    actor: m.actor_ap_id,
    handle: m.handle,
    name: m.name,
    local: m.member_id !== null,
    role: m.role,
    status: m.status,
    since: iso(m.created_at),
  };
}

export function reportJson(r: ReportRow) {
  return {
    id: r.id,
    postId: r.post_id,
    postApId: r.post_ap_id,
    reporter: r.reporter,
    reason: r.reason,
    status: r.status,
    forwarded: r.forwarded,
    createdAt: iso(r.created_at),
  };
}

export function banJson(b: BanRow) {
  return {
    id: b.id,
    groupId: b.group_id,
    kind: b.kind,
    value: b.value,
    moderator: b.moderator,
    reason: b.reason,
    createdAt: iso(b.created_at),
  };
}

export function logJson(l: ModerationLogRow) {
  return { id: l.id, at: iso(l.at), moderator: l.moderator, action: l.action, target: l.target, groupId: l.group_id, reason: l.reason };
}
