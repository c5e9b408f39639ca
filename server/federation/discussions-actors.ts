// The actors of discussions, as other servers see them: a local group is a `Group` (FEP-1b12:
// moderators in attributedTo, its members as its followers collection), a person taking part is
// a `Person` (no email, ever); each signs with its own key. Their posts are `Note`s with the
// group as `audience`. Members-only groups answer their posts and their members list only to
// signed fetches from a member, or from a server that hosts members (authorized fetch).
import type { Context, RequestContext } from '@fedify/fedify';
import { Endpoints, Group, Hashtag, Mention, Note, Person, PUBLIC_COLLECTION, Tombstone } from '@fedify/vocab';
import type { Executor } from '../core/events.ts';
import { findGroupById, findLocalGroupByUsername, type GroupRow } from '../discussions/groups.repository.ts';
import { findLocalActorByUsername, loadActorRsaKeys } from '../discussions/local-actors.repository.ts';
import { findMemberByActorUsername } from '../discussions/members.repository.ts';
import { countMemberships, findMembership, listMemberships, listModerators } from '../discussions/memberships.repository.ts';
import { findPostById, type PostRow } from '../discussions/posts.repository.ts';
import { instant } from './activities.ts';
import { cachedActorIdsByHandle, memberHosts } from './discussions-federation.repository.ts';
import { checkRemoteMembers, groupFollowersUrl } from './discussions-fetch.ts';
import type { FederationRuntime } from './runtime.ts';

const PAGE = 20;
const USERNAME = /^[a-z0-9_]{1,30}$/;

export const actorUri = (rt: FederationRuntime, username: string): URL => new URL(`/ap/actors/${username}`, rt.urls.publicUrl);

/** The username of a local actor id (`${PUBLIC_URL}/ap/actors/{username}`), else undefined. */
export function localUsernameOf(rt: FederationRuntime, apId: string): string | undefined {
  const prefix = new URL('/ap/actors/', rt.urls.publicUrl).href;
  if (!apId.startsWith(prefix)) return undefined;
  const rest = apId.slice(prefix.length);
  return USERNAME.test(rest) ? rest : undefined;
}

export const isLocalId = (rt: FederationRuntime, apId: string): boolean => {
  try {
    return new URL(apId).origin === new URL(rt.urls.publicUrl).origin;
  } catch {
    return false;
  }
};

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** The Group or Person actor `identifier` of this instance (not the network actor), or null. */
export async function localActorDocument(ctx: Context<FederationRuntime>, identifier: string): Promise<Group | Person | null> {
  const rt = ctx.data;
  if (!USERNAME.test(identifier)) return null;
  const actor = await findLocalActorByUsername(rt.app.db, identifier);
  if (!actor) return null;
  const keys = await ctx.getActorKeyPairs(identifier);
  const common = {
    id: ctx.getActorUri(identifier),
    preferredUsername: identifier,
    inbox: ctx.getInboxUri(identifier),
    outbox: ctx.getOutboxUri(identifier),
    endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
    publicKey: keys[0]?.cryptographicKey ?? null,
    assertionMethods: keys.map((k) => k.multikey),
  };
  if (actor.kind === 'group') {
    const group = await findLocalGroupByUsername(rt.app.db, identifier);
    if (!group) return null;
    const moderators = await listModerators(rt.app.db, group.id);
    return new Group({
      ...common,
      name: group.name,
      summary: group.summary ? `<p>${escapeHtml(group.summary)}</p>` : null,
      url: new URL(`/groups/${identifier}`, rt.urls.publicUrl),
      followers: ctx.getFollowersUri(identifier),
      manuallyApprovesFollowers: group.join_policy === 'approval',
      // Members-only groups are not listed in directories; other servers read this as "private".
      discoverable: group.visibility === 'public',
      attributions: moderators.map((m) => new URL(m)),
    });
  }
  // A member who erased their data keeps a bare actor: the Deletes and Undos sent for them
  // must still be verifiable by other servers (their key), with nothing else left.
  const member = await findMemberByActorUsername(rt.app.db, identifier);
  return new Person({ ...common, name: member ? (member.display_name ?? identifier) : 'Ancien membre', discoverable: false });
}

/** Key pairs of a group or a person (RSA only: what Mastodon checks). */
export async function localActorKeys(rt: FederationRuntime, identifier: string): Promise<CryptoKeyPair[]> {
  if (!USERNAME.test(identifier)) return [];
  const keys = await loadActorRsaKeys(rt.app.db, identifier);
  return keys ? [keys] : [];
}

export async function isLocalActor(rt: FederationRuntime, identifier: string): Promise<boolean> {
  return USERNAME.test(identifier) && (await findLocalActorByUsername(rt.app.db, identifier)) !== undefined;
}

/** A page of a local group's followers collection: its accepted members (local and remote). */
export async function groupFollowersPage(rt: FederationRuntime, identifier: string, cursor: string) {
  if (!USERNAME.test(identifier)) return null;
  const group = await findLocalGroupByUsername(rt.app.db, identifier);
  if (!group) return null;
  const offset = Math.max(0, Number.parseInt(cursor, 10) || 0);
  const rows = await listMemberships(rt.app.db, group.id, { status: 'accepted', limit: PAGE, offset });
  const items = rows.map((r) => ({
    id: new URL(r.actor_ap_id),
    inboxId: new URL(r.inbox ?? `${r.actor_ap_id}/inbox`),
    endpoints: r.shared_inbox ? { sharedInbox: new URL(r.shared_inbox) } : null,
  }));
  return { items, nextCursor: rows.length === PAGE ? String(offset + PAGE) : null };
}

export async function groupFollowersCount(rt: FederationRuntime, identifier: string): Promise<number | null> {
  if (!USERNAME.test(identifier)) return null;
  const group = await findLocalGroupByUsername(rt.app.db, identifier);
  return group ? countMemberships(rt.app.db, group.id, 'accepted') : null;
}

/**
 * Whether the signer of this request may read the group's content. Public groups: anyone.
 * Members-only: a signed request from an accepted member, or from a server hosting one (servers
 * fetch with their own actor, as Mastodon does). For a remote group (our people's posts in it),
 * the group's own server, or a server hosting members according to the group's members list.
 */
export async function mayRead(ctx: RequestContext<FederationRuntime>, group: GroupRow): Promise<boolean> {
  if (group.visibility === 'public') return true;
  const rt = ctx.data;
  let owner: Awaited<ReturnType<typeof ctx.getSignedKeyOwner>>;
  try {
    owner = await ctx.getSignedKeyOwner({ documentLoader: rt.guard.documentLoader, contextLoader: rt.guard.documentLoader });
  } catch {
    return false;
  }
  if (!owner?.id) return false;
  const ownerId = owner.id.href;
  const host = owner.id.host;
  if (group.origin === 'local') {
    if ((await findMembership(rt.app.db, group.id, ownerId))?.status === 'accepted') return true;
    return host !== rt.host && (await memberHosts(rt.app.db, group.id)).has(host);
  }
  if (new URL(group.ap_id).host === host) return true;
  try {
    const followers = await groupFollowersUrl(rt, group.ap_id);
    if (!followers) return false;
    return await checkRemoteMembers(rt, followers, (ids) => ids.has(ownerId) || [...ids].some((id) => new URL(id).host === host));
  } catch {
    return false;
  }
}

/** The followers collection of a members-only group is its members list: same rule as its posts. */
export async function mayReadFollowers(ctx: RequestContext<FederationRuntime>, identifier: string): Promise<boolean> {
  const group = USERNAME.test(identifier) ? await findLocalGroupByUsername(ctx.data.app.db, identifier) : undefined;
  return !group || mayRead(ctx, group);
}

export interface NoteExtras {
  /** Mentioned actors: their id and `@name@host`. */
  mentions: Array<{ id: string; name: string }>;
}

/** Addressing of a post: public groups and comments to everyone, members-only to the group. */
export function addressOf(post: PostRow, group: GroupRow | undefined, mentions: string[] = []) {
  const followers = group?.origin === 'local' ? new URL(`${group.ap_id}/followers`) : undefined;
  const to: URL[] = [];
  if (post.visibility === 'public') to.push(PUBLIC_COLLECTION);
  if (group) to.push(new URL(group.ap_id));
  const cc: URL[] = [...(followers ? [followers] : []), ...mentions.map((m) => new URL(m))];
  return { tos: to, ccs: cc };
}

export function noteOf(rt: FederationRuntime, post: PostRow, group: GroupRow | undefined, extras: NoteExtras = { mentions: [] }): Note {
  const tags = [
    ...post.tags.map((tag) => new Hashtag({ name: `#${tag}`, href: new URL(`/tags/${encodeURIComponent(tag)}`, rt.urls.publicUrl) })),
    ...extras.mentions.map((m) => new Mention({ name: m.name, href: new URL(m.id) })),
  ];
  return new Note({
    id: new URL(post.ap_id),
    attribution: new URL(post.author_ap_id),
    name: post.depth === 0 && post.title ? post.title : null,
    content: post.content_html,
    mediaType: 'text/html',
    url: new URL(post.url),
    replyTarget: post.in_reply_to ? new URL(post.in_reply_to) : null,
    published: instant(post.published_at),
    updated: post.updated_at ? instant(post.updated_at) : null,
    audience: group ? new URL(group.ap_id) : null,
    tags,
    ...addressOf(
      post,
      group,
      extras.mentions.map((m) => m.id),
    ),
  });
}

/** A local post as served at its id, or null (unknown, not visible, or not for this reader). */
export async function servedNote(ctx: RequestContext<FederationRuntime>, id: string): Promise<Note | null> {
  const rt = ctx.data;
  const post = await findPostById(rt.app.db, id);
  if (post?.origin !== 'local' || post.status !== 'visible') return null;
  const group = post.group_id ? await findGroupById(rt.app.db, post.group_id) : undefined;
  if (post.group_id && !group) return null;
  if ((post.visibility === 'members' || group?.visibility === 'members') && !(group && (await mayRead(ctx, group)))) return null;
  return noteOf(rt, post, group, { mentions: await mentionsOf(rt, rt.app.db, post.mentions) });
}

/** Mentioned actors: ids stored as such, or handles already seen (others cannot be tagged offline). */
export async function mentionsOf(rt: FederationRuntime, db: Executor, mentions: string[]): Promise<Array<{ id: string; name: string }>> {
  const out: Array<{ id: string; name: string }> = [];
  const handles: string[] = [];
  for (const raw of mentions) {
    const m = raw.trim();
    if (/^https?:\/\//.test(m)) {
      const url = new URL(m);
      out.push({ id: url.href, name: `@${url.pathname.split('/').pop()}@${url.host}` });
    } else if (m.includes('@')) handles.push(m.replace(/^@/, '').toLowerCase());
  }
  const known = await cachedActorIdsByHandle(db, handles);
  for (const handle of handles) {
    const [user, host] = handle.split('@');
    const id = known.get(handle) ?? (host === rt.host && user ? new URL(`/ap/actors/${user}`, rt.urls.publicUrl).href : undefined);
    if (id) out.push({ id, name: `@${handle}` });
  }
  return out;
}

/** The Tombstone answered (410) for a local post that was removed; undefined otherwise. */
export async function removedPostTombstone(db: Executor, id: string): Promise<unknown> {
  const post = await findPostById(db, id);
  if (post?.origin !== 'local' || post.status !== 'removed') return undefined;
  const deleted = instant(post.updated_at ?? new Date());
  return new Tombstone({ id: new URL(post.ap_id), deleted }).toJsonLd({ format: 'compact' });
}
