// Who may read and moderate what, for the REST API: members-only groups are read by their
// accepted members and staff administrators only; held posts by moderators and their author.
import type { FastifyRequest } from 'fastify';
import { hasRole } from '../accounts/guards.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { Executor } from '../core/events.ts';
import type { GroupRow } from './groups.repository.ts';
import { findGroupById } from './groups.repository.ts';
import { memberOf, requireMember } from './member-auth.ts';
import { findMembership } from './memberships.repository.ts';
import { canModerate } from './moderation.service.ts';
import type { PostRow } from './posts.repository.ts';
import { personApId } from './posts.service.ts';

export function viewerActor(ctx: AppContext, request: FastifyRequest): string | undefined {
  const member = memberOf(request);
  return member ? personApId(ctx, member.username) : undefined;
}

export async function mayReadGroup(ctx: AppContext, db: Executor, request: FastifyRequest, group: GroupRow): Promise<boolean> {
  if (group.visibility === 'public') return true;
  if (hasRole(request.user, 'admin')) return true;
  const actor = viewerActor(ctx, request);
  if (!actor) return false;
  return (await findMembership(db, group.id, actor))?.status === 'accepted';
}

/** Throws 401 (anonymous) or 403 (not a member) when the group may not be read. */
export async function assertReadGroup(ctx: AppContext, db: Executor, request: FastifyRequest, group: GroupRow): Promise<void> {
  if (await mayReadGroup(ctx, db, request, group)) return;
  if (!request.user && !memberOf(request)) throw new AppError('unauthorized', 'This group is for its members: sign in.');
  throw new AppError('forbidden', 'This group is for its members only.');
}

export async function isModeratorOf(ctx: AppContext, db: Executor, request: FastifyRequest, groupId: string | null): Promise<boolean> {
  return canModerate(db, { user: request.user, member: memberOf(request), ...actorOf(ctx, request) }, groupId);
}

function actorOf(ctx: AppContext, request: FastifyRequest): { actorApId?: string } {
  const actor = viewerActor(ctx, request);
  return actor ? { actorApId: actor } : {};
}

/** The moderator's identity for the log (their Person actor); 403 unless they moderate here. */
export async function requireModerator(ctx: AppContext, db: Executor, request: FastifyRequest, groupId: string | null): Promise<string> {
  if (!request.user && !memberOf(request)) throw new AppError('unauthorized', 'Sign in to moderate.');
  if (!(await isModeratorOf(ctx, db, request, groupId))) throw new AppError('forbidden', 'Only a moderator may do this.');
  const member = await requireMember(ctx, request, db);
  return personApId(ctx, member.username);
}

/**
 * A post readable by this request: 404 when it does not exist or is held (except for moderators
 * and its author), 401/403 when it is in a members-only group the reader is not in.
 */
export async function readablePost(ctx: AppContext, db: Executor, request: FastifyRequest, post: PostRow | undefined): Promise<PostRow> {
  if (!post) throw new AppError('not_found', 'This message does not exist.');
  const group = post.group_id ? await findGroupById(db, post.group_id) : undefined;
  if (post.group_id && !group) throw new AppError('not_found', 'This message does not exist.');
  if (group) await assertReadGroup(ctx, db, request, group);
  if (post.status === 'held') {
    const mine = memberOf(request)?.id !== undefined && memberOf(request)?.id === post.author_member_id;
    if (!mine && !(await isModeratorOf(ctx, db, request, post.group_id))) throw new AppError('not_found', 'This message does not exist.');
  }
  return post;
}
