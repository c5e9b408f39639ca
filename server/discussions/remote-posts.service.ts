// Posts received from other servers, as federation hands them over (Create or Update of a Note):
// where they belong (a reply to one of our announcements, resources or posts, or a post addressed
// to a group), whether their author may write there (membership, bans, the per-server rate limit),
// whether they wait for approval (the "hold comments from untrusted servers" setting), and their
// HTML made safe. Refusals are answers ({ refused }), not errors: federation logs them.
import crypto from 'node:crypto';
import { normalizeTag } from '../announcements/announcements.domain.ts';
import type { AppContext } from '../core/context.ts';
import type { Executor } from '../core/events.ts';
import { isBlocked } from '../federation/federation.repository.ts';
import { allowHostPost } from './discussions.rate-limit.ts';
import { holdUntrusted } from './discussions.settings.ts';
import { cleanRemoteHtml, POST_LIMITS } from './discussions.text.ts';
import { findGroupByApId, findGroupById } from './groups.repository.ts';
import { findMembership } from './memberships.repository.ts';
import { isBannedFrom, isTrustedHost } from './moderation.repository.ts';
import { findPostByApId, insertPost, type PostRow, updatePostContent } from './posts.repository.ts';
// posts.service re-exports storeRemotePost: a cycle of functions only, resolved at call time.
import { depthUnder, makeVisible } from './posts.service.ts';
import { type CommentTarget, findAnnouncementTarget, findResourceTarget } from './targets.repository.ts';
import './discussions.events.ts';

/** A Note received from another server (Create or Update), as federation hands it over. */
export interface RemotePostInput {
  apId: string;
  url: string;
  authorApId: string;
  authorName: string;
  authorHandle: string;
  inReplyTo?: string;
  groupApId?: string;
  title?: string;
  contentHtml: string;
  tags: string[];
  mentions: string[];
  publishedAt: Date;
  updatedAt?: Date;
}

const REMOTE_HTML_MAX = 200_000;

function cleanTags(tags: string[]): string[] {
  const out: string[] = [];
  for (const raw of tags) {
    const tag = normalizeTag(raw);
    if (tag && !out.includes(tag) && out.length < POST_LIMITS.tags) out.push(tag);
  }
  return out;
}

async function updateRemote(
  ctx: AppContext,
  trx: Executor,
  existing: PostRow,
  input: RemotePostInput,
): Promise<{ post: PostRow; created: false } | { refused: string }> {
  if (existing.author_ap_id !== input.authorApId) return { refused: 'only its author may change this post' };
  if (existing.status === 'removed') return { refused: 'this post was removed' };
  const clean = cleanRemoteHtml(input.contentHtml);
  const post = (await updatePostContent(trx, existing.id, {
    ...(existing.depth === 0 ? { title: input.title?.trim().slice(0, POST_LIMITS.title) || null } : {}),
    contentHtml: clean.html,
    contentText: clean.text,
    tags: cleanTags(input.tags),
    mentions: input.mentions.slice(0, POST_LIMITS.mentions),
    updatedAt: input.updatedAt ?? new Date(),
  })) as PostRow;
  if (post.status === 'visible') await ctx.events.publish(trx, 'discussion.post.updated', { postId: post.id });
  return { post, created: false };
}

/**
 * Stores a post received from another server: a reply to one of our announcements, resources or
 * posts, or a post addressed to a group. Refusals are answers, not errors (federation logs them).
 * An already known id is an edit by its author.
 */
export async function storeRemotePost(
  ctx: AppContext,
  trx: Executor,
  input: RemotePostInput,
): Promise<{ post: PostRow; created: boolean } | { refused: string }> {
  let authorHost: string;
  try {
    authorHost = new URL(input.authorApId).host;
    new URL(input.apId);
  } catch {
    return { refused: 'invalid ids' };
  }
  if (input.contentHtml.length > REMOTE_HTML_MAX) return { refused: 'content too large' };
  if (await isBlocked(trx, input.authorApId)) return { refused: 'blocked author or server' };
  const existing = await findPostByApId(trx, input.apId);
  if (existing) return updateRemote(ctx, trx, existing, input);

  let group = input.groupApId ? await findGroupByApId(trx, input.groupApId) : undefined;
  if (input.groupApId && !group) return { refused: 'unknown group' };
  let parent: PostRow | undefined;
  let target: CommentTarget | undefined;
  if (input.inReplyTo) {
    parent = await findPostByApId(trx, input.inReplyTo);
    if (!parent) {
      target = (await findAnnouncementTarget(trx, { apId: input.inReplyTo })) ?? (await findResourceTarget(trx, { apId: input.inReplyTo }));
      if (!target) return { refused: 'replies to something that does not exist here' };
    }
  }
  if (parent) {
    if (parent.status === 'held') return { refused: 'replies to a post that is not shown' };
    if (parent.group_id) {
      if (group && group.id !== parent.group_id) return { refused: 'addressed to another group than the post it answers' };
      group = await findGroupById(trx, parent.group_id);
      if (!group) return { refused: 'unknown group' };
    } else {
      if (group) return { refused: 'a comment cannot go to a group' };
      target = parent.announcement_id
        ? { kind: 'announcement', id: parent.announcement_id, ap_id: '' }
        : { kind: 'resource', id: parent.resource_id as string, ap_id: '' };
    }
  }
  if (!group && !target) return { refused: 'neither a reply nor addressed to a group' };

  if (await isBannedFrom(trx, group?.id ?? null, input.authorApId)) return { refused: 'the author is banned' };
  let trustedMember = false;
  if (group?.origin === 'local') {
    const membership = await findMembership(trx, group.id, input.authorApId);
    trustedMember = membership?.status === 'accepted';
    // A new thread always needs membership; a reply too in a members-only group.
    if (!trustedMember && (!parent || group.visibility === 'members')) return { refused: 'the author is not a member of the group' };
  } else if (group) {
    trustedMember = true; // a remote group's own post, relayed by it (federation checked it)
  }
  if (!(await allowHostPost(trx, authorHost))) return { refused: 'too many posts from this server' };

  const held = !trustedMember && (await holdUntrusted(trx)) && !(await isTrustedHost(trx, authorHost));
  const clean = cleanRemoteHtml(input.contentHtml);
  if (!clean.text && !clean.html) return { refused: 'empty content' };
  const id = crypto.randomUUID();
  const now = new Date();
  const published = input.publishedAt.getTime() > now.getTime() + 300_000 ? now : input.publishedAt;
  const post = await insertPost(trx, {
    id,
    ap_id: input.apId,
    url: /^https?:\/\//i.test(input.url) ? input.url : input.apId,
    origin: 'remote',
    author_ap_id: input.authorApId,
    author_member_id: null,
    author_name: input.authorName.slice(0, 200),
    author_handle: input.authorHandle.slice(0, 300),
    group_id: group?.id ?? null,
    announcement_id: target?.kind === 'announcement' ? target.id : null,
    resource_id: target?.kind === 'resource' ? target.id : null,
    in_reply_to: input.inReplyTo ?? null,
    thread_id: parent ? (parent.thread_id ?? parent.id) : id,
    depth: depthUnder(parent),
    title: parent ? null : input.title?.trim().slice(0, POST_LIMITS.title) || null,
    content_html: clean.html,
    content_text: clean.text,
    tags: cleanTags(input.tags),
    mentions: input.mentions.slice(0, POST_LIMITS.mentions),
    visibility: group?.visibility ?? 'public',
    status: held ? 'held' : 'visible',
    published_at: published,
    updated_at: input.updatedAt ?? null,
    last_activity_at: now,
  });
  if (!held) await makeVisible(ctx, trx, post, parent, 'discussion.post.created');
  return { post, created: true };
}
