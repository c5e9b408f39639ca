// Erasure of a member's row and sessions; the Person actor's row stays (see members.service.ts).
import type { Executor } from '../core/events.ts';

export async function deleteMemberKeepActor(db: Executor, memberId: string): Promise<void> {
  await db.deleteFrom('discussion_sessions').where('member_id', '=', memberId).execute();
  await db.deleteFrom('discussion_memberships').where('member_id', '=', memberId).execute();
  await db.deleteFrom('discussion_members').where('id', '=', memberId).execute();
}
