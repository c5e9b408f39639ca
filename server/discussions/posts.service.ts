// The rules of posts: who may write where (membership, bans, rate limits), how a post is made
// (Markdown → sanitized HTML, mentions and tags), where a reply goes in its thread (received
// posts: remote-posts.service.ts), and how posts are edited and removed. Every change publishes
// its domain event inside the caller's transaction (federation, live pages and digests follow).
import crypto from 'node:crypto';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { Executor } from '../core/events.ts';
import { allowMemberPost } from './discussions.rate-limit.ts';
import type { Visibility } from './discussions.tables.ts';
import { POST_LIMITS, renderPostMarkdown } from './discussions.text.ts';
import { findGroupById, type GroupRow, touchGroupActivity } from './groups.repository.ts';
import type { MemberRow } from './members.repository.ts';
import { findMembership } from './memberships.repository.ts';
import { isBannedFrom } from './moderation.repository.ts';
import { logModeration } from './moderation.service.ts';
import {
  findPostByApId,
  findPostById,
  insertPost,
  type PostRow,
  recordReply,
  setPostStatus,
  updatePostContent,
} from './posts.repository.ts';
import { type CommentTarget, findAnnouncementTarget, findResourceTarget } from './targets.repository.ts';
import './discussions.events.ts';

/** Replies deeper than this are shown at this depth (under the last shown level). */
export const MAX_DEPTH = 8;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function personApId(ctx: AppContext, username: string): string {
  return `${ctx.config.publicUrl}/ap/actors/${username}`;
}

export function postApId(ctx: AppContext, id: string): string {
  return `${ctx.config.publicUrl}/discussions/posts/${id}`;
}

function hostOfUrl(url: string): string {
  return new URL(url).host;
}

export interface LocalPostInput {
  member: MemberRow;
  groupId?: string;
  announcementId?: string;
  resourceId?: string;
  /** The post answered: its id or its ActivityPub id. */
  inReplyTo?: string;
  title?: string | null;
  markdown: string;
}

interface Placement {
  group: GroupRow | undefined;
  target: CommentTarget | undefined;
  parent: PostRow | undefined;
}

async function placeLocalPost(trx: Executor, input: LocalPostInput): Promise<Placement> {
  if (input.inReplyTo !== undefined) {
    const parent = UUID.test(input.inReplyTo) ? await findPostById(trx, input.inReplyTo) : await findPostByApId(trx, input.inReplyTo);
    if (!parent || parent.status === 'held') throw new AppError('not_found', 'The message answered does not exist.');
    if (parent.status === 'removed') throw new AppError('gone', 'The message answered was removed.');
    if (input.groupId && parent.group_id !== input.groupId) throw new AppError('bad_request', 'The message answered is in another group.');
    const group = parent.group_id ? await findGroupById(trx, parent.group_id) : undefined;
    if (parent.group_id && !group) throw new AppError('not_found', 'This group does not exist.');
    const target = parent.announcement_id
      ? { kind: 'announcement' as const, id: parent.announcement_id, ap_id: '' }
      : parent.resource_id
        ? { kind: 'resource' as const, id: parent.resource_id, ap_id: '' }
        : undefined;
    return { group, target, parent };
  }
  const contexts = [input.groupId, input.announcementId, input.resourceId].filter((x) => x !== undefined);
  if (contexts.length !== 1) throw new AppError('bad_request', 'A post goes in exactly one place: a group, an announcement or a resource.');
  if (input.groupId) {
    const group = UUID.test(input.groupId) ? await findGroupById(trx, input.groupId) : undefined;
    if (!group) throw new AppError('not_found', 'This group does not exist.');
    return { group, target: undefined, parent: undefined };
  }
  const target = input.announcementId
    ? await findAnnouncementTarget(trx, { id: input.announcementId })
    : await findResourceTarget(trx, { id: input.resourceId as string });
  if (!target)
    throw new AppError('not_found', input.announcementId ? 'This announcement does not exist.' : 'This resource does not exist.');
  return { group: undefined, target, parent: undefined };
}

export function depthUnder(parent: PostRow | undefined): number {
  return parent ? Math.min(parent.depth + 1, MAX_DEPTH) : 0;
}

/** A post written here by a member (or a staff user's member identity). */
export async function createLocalPost(ctx: AppContext, trx: Executor, input: LocalPostInput): Promise<PostRow> {
  const markdown = input.markdown.trim();
  if (!markdown) throw new AppError('validation_failed', 'The message is empty.');
  if (markdown.length > POST_LIMITS.markdown)
    throw new AppError('validation_failed', `A message holds at most ${POST_LIMITS.markdown} characters.`);
  const title = input.title?.trim() || null;
  if (title && title.length > POST_LIMITS.title)
    throw new AppError('validation_failed', `A title holds at most ${POST_LIMITS.title} characters.`);

  const { member } = input;
  const authorApId = personApId(ctx, member.username);
  const { group, target, parent } = await placeLocalPost(trx, input);
  if (await isBannedFrom(trx, group?.id ?? null, authorApId)) throw new AppError('forbidden', 'You are banned from this discussion.');
  if (group) {
    const membership = await findMembership(trx, group.id, authorApId);
    if (membership?.status !== 'accepted') throw new AppError('forbidden', 'Join this group to post in it.');
  }
  if (!(await allowMemberPost(trx, member.id))) {
    throw new AppError('rate_limited', 'You are posting too fast: wait a minute and try again.', { retryAfterSeconds: 60 });
  }

  const rendered = renderPostMarkdown(markdown, ctx.config.publicUrl);
  const id = crypto.randomUUID();
  const apId = postApId(ctx, id);
  const now = new Date();
  const visibility: Visibility = group?.visibility ?? 'public';
  const post = await insertPost(trx, {
    id,
    ap_id: apId,
    url: apId,
    origin: 'local',
    author_ap_id: authorApId,
    author_member_id: member.id,
    author_name: member.display_name ?? member.username,
    author_handle: `${member.username}@${hostOfUrl(ctx.config.publicUrl)}`,
    group_id: group?.id ?? null,
    announcement_id: target?.kind === 'announcement' ? target.id : null,
    resource_id: target?.kind === 'resource' ? target.id : null,
    in_reply_to: parent?.ap_id ?? (target?.ap_id || null),
    thread_id: parent ? (parent.thread_id ?? parent.id) : id,
    depth: depthUnder(parent),
    title: parent ? null : title,
    content_html: rendered.html,
    content_text: rendered.text,
    tags: rendered.tags,
    mentions: rendered.mentions,
    visibility,
    status: 'visible',
    published_at: now,
    last_activity_at: now,
  });
  if (parent) await recordReply(trx, parent.id, parent.thread_id ?? parent.id, now);
  if (group) await touchGroupActivity(trx, group.id, now);
  await ctx.events.publish(trx, 'discussion.post.created', { postId: post.id });
  return post;
}

/** Its author edits a local post (the Markdown is rendered again). */
export async function editLocalPost(
  ctx: AppContext,
  trx: Executor,
  input: { member: MemberRow; postId: string; title?: string | null; markdown: string },
): Promise<PostRow> {
  const post = await findPostById(trx, input.postId);
  if (!post || post.status === 'held') throw new AppError('not_found', 'This message does not exist.');
  if (post.status === 'removed') throw new AppError('gone', 'This message was removed.');
  if (post.author_member_id !== input.member.id) throw new AppError('forbidden', 'Only its author may edit a message.');
  const markdown = input.markdown.trim();
  if (!markdown || markdown.length > POST_LIMITS.markdown) throw new AppError('validation_failed', 'The message is empty or too long.');
  const rendered = renderPostMarkdown(markdown, ctx.config.publicUrl);
  const title = post.depth === 0 && input.title !== undefined ? input.title?.trim() || null : undefined;
  const updated = await updatePostContent(trx, post.id, {
    ...(title !== undefined ? { title } : {}),
    contentHtml: rendered.html,
    contentText: rendered.text,
    tags: rendered.tags,
    mentions: rendered.mentions,
    updatedAt: new Date(),
  });
  await ctx.events.publish(trx, 'discussion.post.updated', { postId: post.id });
  return updated as PostRow;
}

export { type RemotePostInput, storeRemotePost } from './remote-posts.service.ts';

/** Counts the reply in its thread and group, and tells who follows (created or approved). */
export async function makeVisible(
  ctx: AppContext,
  trx: Executor,
  post: PostRow,
  parent: PostRow | undefined,
  event: 'discussion.post.created' | 'discussion.post.approved',
): Promise<void> {
  const now = new Date();
  const parentRow = parent ?? (post.in_reply_to ? await findPostByApId(trx, post.in_reply_to) : undefined);
  if (parentRow) await recordReply(trx, parentRow.id, post.thread_id ?? parentRow.id, now);
  if (post.group_id) await touchGroupActivity(trx, post.group_id, now);
  await ctx.events.publish(trx, event, { postId: post.id });
}

/**
 * Removes a post: by a moderator (the caller checked the right to moderate; logged), or by its
 * author (checked here). The row stays, without content; federation sends a Delete.
 */
export async function removePost(
  ctx: AppContext,
  trx: Executor,
  input: { postId: string; by: { moderator: string } | { authorApId: string }; reason: string },
): Promise<PostRow> {
  const post = await findPostById(trx, input.postId);
  if (!post) throw new AppError('not_found', 'This message does not exist.');
  if ('authorApId' in input.by && input.by.authorApId !== post.author_ap_id) {
    throw new AppError('forbidden', 'Only its author or a moderator may remove a message.');
  }
  if (post.status === 'removed') return post;
  const removed = (await setPostStatus(trx, post.id, 'removed')) as PostRow;
  const byModerator = 'moderator' in input.by;
  if ('moderator' in input.by) {
    await logModeration(trx, {
      moderator: input.by.moderator,
      action: 'remove_post',
      target: post.ap_id,
      groupId: post.group_id,
      reason: input.reason,
    });
  }
  await ctx.events.publish(trx, 'discussion.post.removed', { postId: post.id, apId: post.ap_id, byModerator });
  return removed;
}
