// Groups hosted here: staff create them (a Group actor with its own keys, FEP-1b12), edit their
// name, summary, visibility and join policy, and close them.
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { Executor } from '../core/events.ts';
import './discussions.events.ts';
import type { Visibility } from './discussions.tables.ts';
import { findGroupById, type GroupRow, insertLocalGroup, markGroupDeleted, updateLocalGroup } from './groups.repository.ts';
import { createLocalActor, isUsernameTaken, USERNAME_PATTERN } from './local-actors.repository.ts';
import { logModeration } from './moderation.service.ts';

export const GROUP_LIMITS = { name: 120, summary: 2000 } as const;

export interface GroupInput {
  name: string;
  username: string;
  summary?: string;
  visibility?: Visibility;
  joinPolicy?: 'open' | 'approval';
}

export async function createGroup(ctx: AppContext, trx: Executor, input: GroupInput): Promise<GroupRow> {
  const username = input.username.trim().toLowerCase();
  if (!USERNAME_PATTERN.test(username)) throw new AppError('validation_failed', 'username: 1 to 30 lower-case letters, digits or _.');
  const name = input.name.trim();
  if (!name || name.length > GROUP_LIMITS.name) throw new AppError('validation_failed', `name: 1 to ${GROUP_LIMITS.name} characters.`);
  const summary = (input.summary ?? '').trim();
  if (summary.length > GROUP_LIMITS.summary)
    throw new AppError('validation_failed', `summary: at most ${GROUP_LIMITS.summary} characters.`);
  if (await isUsernameTaken(trx, username, ctx.config.instanceHandle))
    throw new AppError('conflict', 'This username is already used on this instance.');
  const actor = await createLocalActor(trx, { username, kind: 'group' });
  const apId = `${ctx.config.publicUrl}/ap/actors/${username}`;
  const id = await insertLocalGroup(trx, {
    actorId: actor.id,
    apId,
    handle: `${username}@${new URL(ctx.config.publicUrl).host}`,
    name,
    summary,
    visibility: input.visibility ?? 'public',
    joinPolicy: input.joinPolicy ?? 'open',
  });
  return (await findGroupById(trx, id)) as GroupRow;
}

export async function updateGroup(
  ctx: AppContext,
  trx: Executor,
  groupId: string,
  changes: { name?: string; summary?: string; visibility?: Visibility; joinPolicy?: 'open' | 'approval' },
): Promise<GroupRow> {
  const group = await findGroupById(trx, groupId);
  if (!group) throw new AppError('not_found', 'This group does not exist.');
  if (group.origin !== 'local') throw new AppError('forbidden', 'A group of another server is changed there.');
  const name = changes.name?.trim();
  if (name !== undefined && (!name || name.length > GROUP_LIMITS.name))
    throw new AppError('validation_failed', `name: 1 to ${GROUP_LIMITS.name} characters.`);
  const summary = changes.summary?.trim();
  if (summary !== undefined && summary.length > GROUP_LIMITS.summary) throw new AppError('validation_failed', 'summary is too long.');
  await updateLocalGroup(trx, group.id, {
    ...(name !== undefined ? { name } : {}),
    ...(summary !== undefined ? { summary } : {}),
    ...(changes.visibility ? { visibility: changes.visibility } : {}),
    ...(changes.joinPolicy ? { joinPolicy: changes.joinPolicy } : {}),
  });
  await ctx.events.publish(trx, 'discussion.group.updated', { groupId: group.id });
  return (await findGroupById(trx, group.id)) as GroupRow;
}

/** Closes a group: it disappears from lists and pages; its rows stay for the moderation log. */
export async function closeGroup(
  ctx: AppContext,
  trx: Executor,
  input: { groupId: string; moderator: string; reason: string },
): Promise<void> {
  const group = await findGroupById(trx, input.groupId);
  if (!group) throw new AppError('not_found', 'This group does not exist.');
  await markGroupDeleted(trx, group.id);
  if (group.origin === 'local') await ctx.events.publish(trx, 'discussion.group.closed', { groupId: group.id });
  await logModeration(trx, {
    moderator: input.moderator,
    action: 'close_group',
    target: group.ap_id,
    groupId: group.id,
    reason: input.reason,
  });
}
