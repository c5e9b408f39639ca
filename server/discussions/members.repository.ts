// Storage of the people taking part in discussions (members signed in by email link, and staff
// users), with their Person actor, their sign-in links and their sessions (both stored hashed).
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Executor } from '../core/events.ts';
import type { DiscussionMembersTable } from './discussions.tables.ts';
import { createLocalActor, freeUsername } from './local-actors.repository.ts';

type Db = Executor;

/** A member, with the username of their Person actor (their handle is username@host). */
export type MemberRow = Selectable<DiscussionMembersTable> & { username: string };

function selectMembers(db: Db) {
  return db
    .selectFrom('discussion_members as m')
    .innerJoin('local_actors as a', 'a.id', 'm.actor_id')
    .selectAll('m')
    .select('a.username as username');
}

export function findMemberById(db: Db, id: string): Promise<MemberRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return Promise.resolve(undefined);
  return selectMembers(db).where('m.id', '=', id).executeTakeFirst();
}

export function findMemberByEmail(db: Db, email: string): Promise<MemberRow | undefined> {
  return selectMembers(db).where('m.email', '=', email.trim().toLowerCase()).executeTakeFirst();
}

export function findMemberByActorUsername(db: Db, username: string): Promise<MemberRow | undefined> {
  return selectMembers(db).where('a.username', '=', username).executeTakeFirst();
}

export function findMemberByUserId(db: Db, userId: string): Promise<MemberRow | undefined> {
  return selectMembers(db).where('m.user_id', '=', userId).executeTakeFirst();
}

/**
 * Creates a member and their Person actor. The username comes from the display name when there is
 * one, else it is random: never from the email address, which must not show on public pages.
 */
export async function createMember(
  db: Db,
  input: { email: string; displayName: string | null; userId?: string | null; locale?: string; instanceHandle?: string },
): Promise<MemberRow> {
  const base = input.displayName?.trim() ? input.displayName : `membre_${crypto.randomBytes(4).toString('hex')}`;
  const username = await freeUsername(db, base, input.instanceHandle ?? '');
  const actor = await createLocalActor(db, { username, kind: 'person' });
  const row = await db
    .insertInto('discussion_members')
    .values({
      email: input.email.trim().toLowerCase(),
      display_name: input.displayName?.trim() || null,
      actor_id: actor.id,
      user_id: input.userId ?? null,
      ...(input.locale ? { locale: input.locale } : {}),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return (await findMemberById(db, row.id)) as MemberRow;
}

export async function updateMemberProfile(db: Db, id: string, changes: { displayName?: string | null; locale?: string }): Promise<void> {
  const set: { display_name?: string | null; locale?: string } = {};
  if (changes.displayName !== undefined) set.display_name = changes.displayName?.trim() || null;
  if (changes.locale !== undefined) set.locale = changes.locale;
  if (Object.keys(set).length) await db.updateTable('discussion_members').set(set).where('id', '=', id).execute();
}

export async function linkMemberToUser(db: Db, id: string, userId: string): Promise<void> {
  await db.updateTable('discussion_members').set({ user_id: userId }).where('id', '=', id).execute();
}

export async function markSignedIn(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('discussion_members').set({ last_sign_in_at: at }).where('id', '=', id).execute();
}

// --- Sign-in links ---------------------------------------------------------------------------

export async function insertSignInToken(db: Db, t: { tokenHash: string; email: string; expiresAt: Date }): Promise<void> {
  await db.insertInto('discussion_sign_in_tokens').values({ token_hash: t.tokenHash, email: t.email, expires_at: t.expiresAt }).execute();
}

/** Marks a live, unused link as used and returns its email; undefined when it cannot be used. */
export async function consumeSignInToken(db: Db, tokenHash: string, now: Date): Promise<string | undefined> {
  const row = await db
    .updateTable('discussion_sign_in_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('email')
    .executeTakeFirst();
  return row?.email;
}

/** True when a link exists, is unused and has not expired (the confirm page shows its button). */
export async function isSignInTokenLive(db: Db, tokenHash: string, now: Date): Promise<boolean> {
  const row = await db
    .selectFrom('discussion_sign_in_tokens')
    .select('email')
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row !== undefined;
}

export async function deleteOldSignInTokens(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('discussion_sign_in_tokens').where('expires_at', '<', before).execute();
}

export async function deleteSignInTokensOf(db: Db, email: string): Promise<void> {
  await db.deleteFrom('discussion_sign_in_tokens').where('email', '=', email).execute();
}

// --- Sessions --------------------------------------------------------------------------------

export async function insertMemberSession(db: Db, s: { idHash: string; memberId: string; expiresAt: Date }): Promise<void> {
  await db.insertInto('discussion_sessions').values({ id_hash: s.idHash, member_id: s.memberId, expires_at: s.expiresAt }).execute();
}

export async function findMemberBySession(db: Db, idHash: string, now: Date): Promise<MemberRow | undefined> {
  return selectMembers(db)
    .innerJoin('discussion_sessions as s', 's.member_id', 'm.id')
    .where('s.id_hash', '=', idHash)
    .where('s.expires_at', '>', now)
    .executeTakeFirst();
}

export async function deleteMemberSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('discussion_sessions').where('id_hash', '=', idHash).execute();
}

export async function deleteExpiredMemberSessions(db: Db, now: Date): Promise<void> {
  await db.deleteFrom('discussion_sessions').where('expires_at', '<', now).execute();
}
