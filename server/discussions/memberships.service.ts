// Joining and leaving groups, for local people (remote actors join by a Follow, handled by
// federation). Joining an open group is immediate; a group with approval waits for a moderator.
// A local person joining a remote group waits for the group's Accept (federation sends the Follow
// when it sees the pending membership).
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { Executor } from '../core/events.ts';
import type { MembershipStatus } from './discussions.tables.ts';
import { findGroupById, type GroupRow } from './groups.repository.ts';
import { createGroup, type GroupInput } from './groups.service.ts';
import type { MemberRow } from './members.repository.ts';
import {
  deleteMembership,
  findMembership,
  type MembershipRow,
  setMembershipRole,
  setMembershipStatus,
  upsertMembership,
} from './memberships.repository.ts';
import { isBannedFrom } from './moderation.repository.ts';
import { logModeration } from './moderation.service.ts';
import { personApId } from './posts.service.ts';
import './discussions.events.ts';

async function groupOrThrow(db: Executor, groupId: string): Promise<GroupRow> {
  const group = /^[0-9a-f-]{36}$/i.test(groupId) ? await findGroupById(db, groupId) : undefined;
  if (!group) throw new AppError('not_found', 'This group does not exist.');
  return group;
}

/** The member joins (or asks to join) the group; returns the membership's status. */
export async function joinGroupIn(ctx: AppContext, trx: Executor, input: { member: MemberRow; groupId: string }): Promise<MembershipRow> {
  const group = await groupOrThrow(trx, input.groupId);
  const actorApId = personApId(ctx, input.member.username);
  if (await isBannedFrom(trx, group.id, actorApId)) throw new AppError('forbidden', 'You are banned from this group.');
  const existing = await findMembership(trx, group.id, actorApId);
  if (existing) return existing;
  const status: MembershipStatus = group.origin === 'local' && group.join_policy === 'open' ? 'accepted' : 'pending';
  const row = await upsertMembership(trx, {
    groupId: group.id,
    actorApId,
    memberId: input.member.id,
    handle: `${input.member.username}@${new URL(ctx.config.publicUrl).host}`,
    name: input.member.display_name,
    status,
  });
  await ctx.events.publish(trx, 'discussion.membership.changed', { groupId: group.id, actorApId, status: row.status });
  return row;
}

/** joinGroupIn in its own transaction (for pages). */
export async function joinGroup(ctx: AppContext, input: { member: MemberRow; groupId: string }): Promise<MembershipStatus> {
  const row = await ctx.db.transaction().execute((trx) => joinGroupIn(ctx, trx, input));
  return row.status;
}

/** The member leaves the group (or withdraws their request). A ban is not lifted by leaving. */
export async function leaveGroupIn(ctx: AppContext, trx: Executor, input: { member: MemberRow; groupId: string }): Promise<boolean> {
  const group = await groupOrThrow(trx, input.groupId);
  const actorApId = personApId(ctx, input.member.username);
  const existing = await findMembership(trx, group.id, actorApId);
  if (!existing || existing.status === 'banned') return false;
  await deleteMembership(trx, group.id, actorApId);
  await ctx.events.publish(trx, 'discussion.membership.changed', { groupId: group.id, actorApId, status: null });
  return true;
}

export async function leaveGroup(ctx: AppContext, input: { member: MemberRow; groupId: string }): Promise<boolean> {
  return ctx.db.transaction().execute((trx) => leaveGroupIn(ctx, trx, input));
}

/** A moderator accepts or refuses a pending membership (logged). */
export async function decideMembership(
  ctx: AppContext,
  trx: Executor,
  input: { groupId: string; actorApId: string; accept: boolean; moderator: string; reason?: string },
): Promise<void> {
  const group = await groupOrThrow(trx, input.groupId);
  const membership = await findMembership(trx, group.id, input.actorApId);
  if (!membership) throw new AppError('not_found', 'No such membership.');
  if (membership.status !== 'pending') throw new AppError('conflict', 'This membership is not waiting for a decision.');
  if (input.accept) await setMembershipStatus(trx, group.id, input.actorApId, 'accepted');
  else await deleteMembership(trx, group.id, input.actorApId);
  await logModeration(trx, {
    moderator: input.moderator,
    action: input.accept ? 'accept_member' : 'refuse_member',
    target: input.actorApId,
    groupId: group.id,
    reason: input.reason ?? '',
  });
  await ctx.events.publish(trx, 'discussion.membership.changed', {
    groupId: group.id,
    actorApId: input.actorApId,
    status: input.accept ? 'accepted' : null,
  });
}

/** Makes an accepted member a moderator of the group, or a plain member again (logged). */
export async function setModerator(
  ctx: AppContext,
  trx: Executor,
  input: { groupId: string; actorApId: string; moderator: boolean; by: string; reason?: string },
): Promise<void> {
  const group = await groupOrThrow(trx, input.groupId);
  const membership = await findMembership(trx, group.id, input.actorApId);
  if (membership?.status !== 'accepted') throw new AppError('not_found', 'Only an accepted member can be a moderator.');
  await setMembershipRole(trx, group.id, input.actorApId, input.moderator ? 'moderator' : 'member');
  await logModeration(trx, {
    moderator: input.by,
    action: input.moderator ? 'add_moderator' : 'remove_moderator',
    target: input.actorApId,
    groupId: group.id,
    reason: input.reason ?? '',
  });
  await ctx.events.publish(trx, 'discussion.membership.changed', { groupId: group.id, actorApId: input.actorApId, status: 'accepted' });
}

/** Creates a group (staff) whose creator belongs to it and moderates it from the start. */
export async function createGroupModeratedBy(ctx: AppContext, trx: Executor, input: GroupInput, creator: MemberRow): Promise<GroupRow> {
  const group = await createGroup(ctx, trx, input);
  const membership = await joinGroupIn(ctx, trx, { member: creator, groupId: group.id });
  if (membership.status !== 'accepted') await setMembershipStatus(trx, group.id, membership.actor_ap_id, 'accepted');
  await setModerator(ctx, trx, {
    groupId: group.id,
    actorApId: membership.actor_ap_id,
    moderator: true,
    by: membership.actor_ap_id,
    reason: 'creator',
  });
  return group;
}
