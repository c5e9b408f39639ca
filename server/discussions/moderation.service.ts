// Moderation: who may moderate (staff administrators everywhere; a group's moderators in their
// group), bans (of an actor, and optionally of their whole server), approval of held posts,
// reports, and the log that records every action with who did it and why.

import { hasRole } from '../accounts/guards.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { Executor } from '../core/events.ts';
import type { RequestUser } from '../core/request-user.ts';
import { findGroupById } from './groups.repository.ts';
import type { MemberRow } from './members.repository.ts';
import { deleteMembership, findMembership, setMembershipStatus, upsertMembership } from './memberships.repository.ts';
import {
  deleteBan,
  findReportById,
  insertBan,
  insertModerationLog,
  insertReport,
  type ReportRow,
  setReportStatus,
} from './moderation.repository.ts';
import { findPostById, type PostRow, setPostStatus } from './posts.repository.ts';
// posts.service imports logModeration from here: a cycle of functions only, resolved at call time.
import { makeVisible } from './posts.service.ts';
import './discussions.events.ts';

export const REASON_MAX = 2000;

/** Writes one line of the moderation log. */
export async function logModeration(
  trx: Executor,
  entry: { moderator: string; action: string; target: string; groupId?: string | null; reason: string },
): Promise<void> {
  await insertModerationLog(trx, { ...entry, reason: entry.reason.slice(0, REASON_MAX) });
}

/**
 * Whether this person may moderate the group (groupId) or the comments under announcements and
 * resources (groupId null): staff administrators always, a group's accepted moderators in it.
 */
export async function canModerate(
  db: Executor,
  who: { user: RequestUser | null; member: MemberRow | undefined; actorApId?: string },
  groupId: string | null,
): Promise<boolean> {
  if (hasRole(who.user, 'admin')) return true;
  if (!groupId || !who.actorApId) return false;
  const membership = await findMembership(db, groupId, who.actorApId);
  return membership?.status === 'accepted' && membership.role === 'moderator';
}

/**
 * Bans an actor from a group (or, groupId null, from every group and comment of the instance);
 * with `wholeServer`, every actor of their server too, so that a banned person cannot come back
 * under another account or path of the same server.
 */
export async function banMember(
  ctx: AppContext,
  trx: Executor,
  input: { groupId: string | null; actorApId: string; wholeServer?: boolean; moderator: string; reason: string },
): Promise<void> {
  let host: string;
  try {
    host = new URL(input.actorApId).host;
  } catch {
    throw new AppError('validation_failed', 'actor must be an http(s) URL of an actor.');
  }
  if (input.groupId && !(await findGroupById(trx, input.groupId))) throw new AppError('not_found', 'This group does not exist.');
  const reason = input.reason.slice(0, REASON_MAX);
  await insertBan(trx, { groupId: input.groupId, kind: 'actor', value: input.actorApId, moderator: input.moderator, reason });
  await logModeration(trx, { moderator: input.moderator, action: 'ban', target: input.actorApId, groupId: input.groupId, reason });
  if (input.wholeServer) {
    if (host === new URL(ctx.config.publicUrl).host) throw new AppError('bad_request', 'This server cannot ban itself.');
    await insertBan(trx, { groupId: input.groupId, kind: 'host', value: host, moderator: input.moderator, reason });
    await logModeration(trx, { moderator: input.moderator, action: 'ban_server', target: host, groupId: input.groupId, reason });
  }
  if (input.groupId) {
    // An existing membership keeps what it knows (member, inbox): only its status changes. An
    // actor never seen gets a banned row, so that a later Follow finds them banned.
    if (await findMembership(trx, input.groupId, input.actorApId)) await setMembershipStatus(trx, input.groupId, input.actorApId, 'banned');
    else await upsertMembership(trx, { groupId: input.groupId, actorApId: input.actorApId, status: 'banned', host });
    await ctx.events.publish(trx, 'discussion.membership.changed', {
      groupId: input.groupId,
      actorApId: input.actorApId,
      status: 'banned',
    });
  }
}

/** Lifts a ban (the banned membership, if any, is deleted: they may ask to join again). */
export async function unban(ctx: AppContext, trx: Executor, input: { banId: string; moderator: string; reason: string }): Promise<void> {
  const ban = await deleteBan(trx, input.banId);
  if (!ban) throw new AppError('not_found', 'This ban does not exist.');
  await logModeration(trx, { moderator: input.moderator, action: 'unban', target: ban.value, groupId: ban.group_id, reason: input.reason });
  if (ban.kind === 'actor' && ban.group_id) {
    const membership = await findMembership(trx, ban.group_id, ban.value);
    if (membership?.status === 'banned') {
      await deleteMembership(trx, ban.group_id, ban.value);
      await ctx.events.publish(trx, 'discussion.membership.changed', { groupId: ban.group_id, actorApId: ban.value, status: null });
    }
  }
}

/** A moderator approves a held post: it shows, and federation and live pages learn of it. */
export async function approvePost(
  ctx: AppContext,
  trx: Executor,
  input: { postId: string; moderator: string; reason?: string },
): Promise<PostRow> {
  const post = await findPostById(trx, input.postId);
  if (!post) throw new AppError('not_found', 'This message does not exist.');
  if (post.status !== 'held') throw new AppError('conflict', 'This message is not waiting for approval.');
  const visible = (await setPostStatus(trx, post.id, 'visible')) as PostRow;
  await logModeration(trx, {
    moderator: input.moderator,
    action: 'approve_post',
    target: post.ap_id,
    groupId: post.group_id,
    reason: input.reason ?? '',
  });
  await makeVisible(ctx, trx, visible, undefined, 'discussion.post.approved');
  return visible;
}

/** Anyone signed in (or a remote server, by a Flag) reports a post to the moderators. */
export async function reportPost(
  ctx: AppContext,
  trx: Executor,
  input: { postId: string; reporter: string; reason: string },
): Promise<ReportRow> {
  const post = await findPostById(trx, input.postId);
  if (!post || post.status === 'removed') throw new AppError('not_found', 'This message does not exist.');
  const reason = input.reason.trim().slice(0, REASON_MAX);
  if (!reason) throw new AppError('validation_failed', 'Say why this message should be looked at.');
  const report = await insertReport(trx, { postId: post.id, postApId: post.ap_id, reporter: input.reporter, reason });
  await ctx.events.publish(trx, 'discussion.report.created', { reportId: report.id });
  return report;
}

/** A moderator closes a report (resolved: acted upon; dismissed: nothing to do). */
export async function closeReport(
  _ctx: AppContext,
  trx: Executor,
  input: { reportId: string; status: 'resolved' | 'dismissed'; moderator: string; reason: string },
): Promise<void> {
  const report = await findReportById(trx, input.reportId);
  if (!report) throw new AppError('not_found', 'This report does not exist.');
  const post = report.post_id ? await findPostById(trx, report.post_id) : undefined;
  await setReportStatus(trx, report.id, input.status);
  await logModeration(trx, {
    moderator: input.moderator,
    action: input.status === 'resolved' ? 'resolve_report' : 'dismiss_report',
    target: report.post_ap_id,
    groupId: post?.group_id ?? null,
    reason: input.reason,
  });
}
