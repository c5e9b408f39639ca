// Who is looking at a discussion page and what they may see or do: a member signed in by email
// link or a staff user (both through `memberOf`), their membership of the group, whether they
// moderate it. Members-only groups are never shown to anyone else; administrators may read them
// to moderate (moderation.service: administrators moderate everything).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasRole } from '../accounts/guards.ts';
import type { Locale } from '../config.ts';
import type { AppContext } from '../core/context.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { pageContext, sendPage } from '../web/layout.ts';
import { localPath } from '../web/local-path.ts';
import type { GroupRow } from './groups.repository.ts';
import { memberOf } from './member-auth.ts';
import type { MemberRow } from './members.repository.ts';
import { findMembership, type MembershipRow } from './memberships.repository.ts';
import './discussions.messages.ts';

export interface Viewer {
  locale: Locale;
  member: MemberRow | undefined;
  /** A staff user signed in with their account (a browser session). */
  staff: boolean;
  /** A staff administrator: moderates everything, may read members-only groups to do so. */
  admin: boolean;
  /** The viewer's Person actor, when they have one. */
  actorApId: string | undefined;
  signedIn: boolean;
}

export function personActorUri(ctx: AppContext, username: string): string {
  return `${ctx.config.publicUrl}/ap/actors/${username}`;
}

export function viewerOf(request: FastifyRequest, ctx: AppContext): Viewer {
  const { locale } = pageContext(request, ctx);
  const member = memberOf(request);
  const staff = request.user !== null && request.user.via === 'session';
  return {
    locale,
    member,
    staff,
    admin: staff && hasRole(request.user, 'admin'),
    actorApId: member ? personActorUri(ctx, member.username) : undefined,
    signedIn: member !== undefined || staff,
  };
}

export interface GroupAccess {
  membership: MembershipRow | undefined;
  /** An accepted member (may post and reply). */
  member: boolean;
  moderator: boolean;
  /** May read the group's threads. */
  read: boolean;
}

export async function groupAccess(ctx: AppContext, group: GroupRow, viewer: Viewer): Promise<GroupAccess> {
  const membership = viewer.actorApId ? await findMembership(ctx.db, group.id, viewer.actorApId) : undefined;
  const member = membership?.status === 'accepted';
  // The same rule as moderation.service's canModerate, without asking the database twice.
  const moderator = viewer.admin || (member && membership?.role === 'moderator');
  return { membership, member, moderator, read: group.visibility === 'public' || member || viewer.admin };
}

/** The page of a members-only thread or group shown to someone outside it (403). */
export function sendMembersOnly(request: FastifyRequest, reply: FastifyReply, ctx: AppContext, group: GroupRow | undefined): FastifyReply {
  const { locale } = pageContext(request, ctx);
  const groupLink = group ? groupPath(group) : '/groups';
  return sendPage(reply, request, ctx, {
    title: t(locale, 'error.title'),
    status: 403,
    body: html`<h1>${t(locale, 'dp.membersOnly')}</h1>
<p role="alert">${t(locale, 'error.forbiddenDiscussion')}</p>
<p><a href="${groupLink}">${t(locale, 'dp.joinToRead')}</a></p>`,
  });
}

export function sendNotFound(request: FastifyRequest, reply: FastifyReply, ctx: AppContext): FastifyReply {
  const { locale } = pageContext(request, ctx);
  return sendPage(reply, request, ctx, {
    title: t(locale, 'error.title'),
    status: 404,
    body: html`<h1>${t(locale, 'error.title')}</h1><p>${t(locale, 'error.notFound')}</p><p><a href="/groups">${t(locale, 'dg.title')}</a></p>`,
  });
}

/** The page of a local group, or the local page of a remote group people here joined. */
export function groupPath(group: Pick<GroupRow, 'id' | 'origin' | 'username'>): string {
  return group.origin === 'local' && group.username ? `/groups/${group.username}` : `/discussions/groups/${group.id}`;
}

// Outcomes of forms, carried in the redirect as ?done=<key> and shown once on the next page.
const DONE: Record<string, string> = {
  joined: 'dg.joined',
  requested: 'dg.requested',
  left: 'dg.left',
  posted: 'dg.posted',
  held: 'dg.held',
  replied: 'dp.replied',
  commented: 'dc.posted',
  reported: 'dp.reported',
  deleted: 'dp.deleted',
  saved: 'dm.saved',
  sent: 'dm.sent',
  signedout: 'dm.signedOut',
  erased: 'dm.erased',
  moderated: 'mod.done',
  groupCreated: 'dga.created',
};

export function doneMessage(locale: Locale, key: string | undefined): SafeHtml {
  const messageKey = key ? DONE[key] : undefined;
  return messageKey ? html`<div role="status" class="notice"><p>${t(locale, messageKey)}</p></div>` : html``;
}

/** `path` with ?done=key (and #anchor), for a 303 after a form. */
export function withDone(path: string, key: string, anchor?: string): string {
  const safe = localPath(path) ?? '/';
  const [base, query] = safe.split('#')[0]!.split('?') as [string, string | undefined];
  const params = new URLSearchParams(query ?? '');
  params.set('done', key);
  return `${base}?${params.toString()}${anchor ? `#${anchor}` : ''}`;
}
