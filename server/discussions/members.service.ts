// A member's own data: the sign-in by emailed link (see member-signin.service.ts), their data
// as one JSON document (profile, memberships, posts), and erasure. Erasing deletes the member, their
// sessions and memberships; their posts stay as removed placeholders ("ancien membre", no content)
// so that threads hold together, and federation sends a Delete for each. The Person actor's row
// (username and keys) is kept: the Deletes are signed with its key, and the address must never be
// given to someone else (they would inherit what was addressed to the erased member).
import type { AppContext } from '../core/context.ts';
import './discussions.events.ts';
import { findGroupById } from './groups.repository.ts';
import { deleteMemberKeepActor } from './members.erase.repository.ts';
import { deleteSignInTokensOf, findMemberById, type MemberRow } from './members.repository.ts';
import { deleteMembershipsOfMember, listMembershipsOfMember } from './memberships.repository.ts';
import { anonymizeRemovedPost, listPostsOfMember } from './posts.repository.ts';
import { personApId } from './posts.service.ts';

export { confirmSignIn, isSignInLinkLive, requestSignInLink } from './member-signin.service.ts';

export const ERASED_AUTHOR_NAME = 'ancien membre';

export interface MemberExport {
  exportedAt: string;
  profile: {
    email: string;
    displayName: string | null;
    locale: string;
    handle: string;
    actor: string;
    createdAt: string;
    lastSignInAt: string | null;
  };
  memberships: Array<{ group: string; groupName: string; groupHandle: string; role: string; status: string; since: string }>;
  posts: Array<{
    id: string;
    apId: string;
    url: string;
    group: string | null;
    announcementId: string | null;
    resourceId: string | null;
    inReplyTo: string | null;
    title: string | null;
    contentHtml: string;
    contentText: string;
    tags: string[];
    mentions: string[];
    status: string;
    publishedAt: string;
    updatedAt: string | null;
  }>;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export async function exportMemberData(ctx: AppContext, member: MemberRow): Promise<MemberExport> {
  const fresh = (await findMemberById(ctx.db, member.id)) ?? member;
  const memberships = await listMembershipsOfMember(ctx.db, member.id);
  const posts = await listPostsOfMember(ctx.db, member.id);
  const groupIds = new Map<string, string>();
  for (const p of posts) {
    if (p.group_id && !groupIds.has(p.group_id)) groupIds.set(p.group_id, (await findGroupById(ctx.db, p.group_id))?.ap_id ?? p.group_id);
  }
  return {
    exportedAt: new Date().toISOString(),
    profile: {
      email: fresh.email,
      displayName: fresh.display_name,
      locale: fresh.locale,
      handle: `${fresh.username}@${new URL(ctx.config.publicUrl).host}`,
      actor: personApId(ctx, fresh.username),
      createdAt: iso(fresh.created_at) as string,
      lastSignInAt: iso(fresh.last_sign_in_at),
    },
    memberships: memberships.map((m) => ({
      group: m.group_ap_id,
      groupName: m.group_name,
      groupHandle: m.group_handle,
      role: m.role,
      status: m.status,
      since: iso(m.created_at) as string,
    })),
    posts: posts.map((p) => ({
      id: p.id,
      apId: p.ap_id,
      url: p.url,
      group: p.group_id ? (groupIds.get(p.group_id) ?? null) : null,
      announcementId: p.announcement_id,
      resourceId: p.resource_id,
      inReplyTo: p.in_reply_to,
      title: p.title,
      contentHtml: p.content_html,
      contentText: p.content_text,
      tags: p.tags,
      mentions: p.mentions,
      status: p.status,
      publishedAt: iso(p.published_at) as string,
      updatedAt: iso(p.updated_at),
    })),
  };
}

/** Erases the member (see the top of this file); returns how many posts were taken down. */
export async function eraseMemberData(ctx: AppContext, member: MemberRow): Promise<{ posts: number }> {
  return ctx.db.transaction().execute(async (trx) => {
    const posts = await listPostsOfMember(trx, member.id);
    let removed = 0;
    for (const post of posts) {
      await anonymizeRemovedPost(trx, post.id, ERASED_AUTHOR_NAME);
      if (post.status !== 'removed') {
        removed++;
        await ctx.events.publish(trx, 'discussion.post.removed', { postId: post.id, apId: post.ap_id, byModerator: false });
      }
    }
    const left = await deleteMembershipsOfMember(trx, member.id);
    for (const m of left) {
      await ctx.events.publish(trx, 'discussion.membership.changed', { groupId: m.group_id, actorApId: m.actor_ap_id, status: null });
    }
    await deleteSignInTokensOf(trx, member.email);
    await deleteMemberKeepActor(trx, member.id);
    return { posts: removed };
  });
}
