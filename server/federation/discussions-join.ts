// Local people joining (and leaving) groups of other instances: a Follow from their Person actor
// to the remote Group (FEP-1b12). The group is looked up first (WebFinger or its URL, through the
// guard), then the group and the pending membership are recorded together; the
// group's Accept makes the membership accepted (discussions-inbox.ts). The Follow and, on
// leaving (memberships.service leaveGroup), the Undo(Follow) leave through the outbox.
//
// For the discussions service and pages: `joinRemoteGroup(ctx, member, '@groupe@reseau.org')`.
import { Group, lookupObject } from '@fedify/vocab';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import '../discussions/discussions.events.ts';
import type { MembershipStatus } from '../discussions/discussions.tables.ts';
import { type GroupRow, upsertRemoteGroup } from '../discussions/groups.repository.ts';
import type { MemberRow } from '../discussions/members.repository.ts';
import { joinGroupIn } from '../discussions/memberships.service.ts';
import { isLocalId } from './discussions-actors.ts';
import { federationOf } from './federation.module.ts';
import { isBlocked } from './federation.repository.ts';
import { resolveTarget } from './remote-actors.ts';
import type { FederationRuntime } from './runtime.ts';

function runtime(ctx: AppContext): FederationRuntime {
  const parts = federationOf(ctx);
  if (!parts) throw new AppError('unavailable', 'Federation is not running on this instance.');
  return parts.rt;
}

const plainText = (html: string): string =>
  html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 2000);

/**
 * `member` asks to join the group `target` (a handle such as groupe@reseau.org, or the Group
 * actor's URL). The group is recorded here, then the membership through the discussions service
 * (pending until the group accepts; the outbox sends the Follow when it sees it). Answers the group
 * as stored here and the membership's status. Errors: validation_failed (not a group, a local
 * group, a blocked server), not_found, unavailable.
 */
export async function joinRemoteGroup(
  ctx: AppContext,
  member: MemberRow,
  target: string,
): Promise<{ group: GroupRow; status: MembershipStatus }> {
  const rt = runtime(ctx);
  const info = await resolveTarget(rt, target);
  if (isLocalId(rt, info.id)) throw new AppError('validation_failed', 'Ce groupe est sur cette instance : rejoignez-le ici.');
  if (await isBlocked(ctx.db, info.id)) throw new AppError('validation_failed', 'Ce serveur est bloqué par cette instance.');
  let object: unknown;
  try {
    object = await lookupObject(info.id, { documentLoader: rt.guard.documentLoader, contextLoader: rt.guard.documentLoader });
  } catch {
    throw new AppError('unavailable', `${target} n’a pas pu être joint.`);
  }
  if (!(object instanceof Group)) throw new AppError('validation_failed', `${target} n’est pas un groupe.`);
  const handle = info.handle ?? new URL(info.id).host;
  const summary = plainText(object.summary?.toString() ?? '');
  // A members-only group hides itself from directories (see discussions-actors.ts).
  const visibility = object.discoverable === false ? ('members' as const) : ('public' as const);
  return ctx.db.transaction().execute(async (trx) => {
    const group = await upsertRemoteGroup(trx, {
      apId: info.id,
      handle,
      name: info.name ?? handle,
      summary,
      inbox: info.inbox,
      sharedInbox: info.sharedInbox,
      visibility,
    });
    const membership = await joinGroupIn(ctx, trx, { member, groupId: group.id });
    return { group, status: membership.status };
  });
}
