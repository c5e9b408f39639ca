// The Fedify federation of this instance: one actor (the network, handle INSTANCE_HANDLE), its
// keys, inbox (and the shared inbox /inbox), outbox, followers and following collections, the
// announcements as Articles at their public URL, and NodeInfo. Fedify's key-value store and
// message queue are on our database; every outbound fetch goes through the guard.
import { createFederation, type Federation } from '@fedify/fedify';
import { Article, Create, Endpoints, Image, Note, Organization, Tombstone } from '@fedify/vocab';
import type { AppContext } from '../core/context.ts';
import { articleOf, instant } from './activities.ts';
import {
  countLocalPublished,
  countRemoteAnnouncements,
  findAnnouncement,
  listLocalPublishedPage,
} from './announcements-read.repository.ts';
import {
  groupFollowersCount,
  groupFollowersPage,
  isLocalActor,
  localActorDocument,
  localActorKeys,
  mayReadFollowers,
  servedNote,
} from './discussions-actors.ts';
import { countFollowers, countFollows, listFollowers, listFollows } from './federation.repository.ts';
import { manualApproval } from './federation-settings.repository.ts';
import type { PgBossMessageQueue } from './fedify-queue.ts';
import { registerInboxListeners } from './inbox.ts';
import type { FederationRuntime } from './runtime.ts';

const PAGE = 20;
export const SOFTWARE = { name: 'amap-hub', version: '0.1.0' };

const cursorOf = (offset: number, total: number): string | null => (offset < total ? String(offset) : null);

export function buildFederation(rt: FederationRuntime, queue: PgBossMessageQueue): Federation<FederationRuntime> {
  const { config } = rt.app;
  const federation = createFederation<FederationRuntime>({
    kv: rt.kv,
    queue: { inbox: queue },
    manuallyStartQueue: true,
    origin: config.publicUrl,
    documentLoaderFactory: () => rt.guard.documentLoader,
    contextLoaderFactory: () => rt.guard.documentLoader,
    // Signed fetches (and key fetches) go through the guard too. Our peers serve public documents,
    // so these fetches are not signed.
    authenticatedDocumentLoaderFactory: () => rt.guard.documentLoader,
    firstKnock: 'draft-cavage-http-signatures-12',
    signatureTimeWindow: { hours: 1 },
  });

  federation
    .setActorDispatcher('/ap/actors/{identifier}', async (ctx, identifier) => {
      // Groups and people of the discussions share the path (discussions-actors.ts).
      if (identifier !== rt.handle) return localActorDocument(ctx, identifier);
      const keys = await ctx.getActorKeyPairs(identifier);
      return new Organization({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        name: config.instanceName,
        summary: `Réseau du mouvement des AMAP — ${config.instanceName}. Les annonces du réseau, publiées sur ${config.publicUrl}.`,
        url: new URL('/', config.publicUrl),
        // The site's icon (web/icon.png): Mastodon shows it as the network's avatar.
        icon: new Image({ url: new URL('/static/icon.png', config.publicUrl), mediaType: 'image/png' }),
        inbox: ctx.getInboxUri(identifier),
        outbox: ctx.getOutboxUri(identifier),
        followers: ctx.getFollowersUri(identifier),
        following: ctx.getFollowingUri(identifier),
        endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
        manuallyApprovesFollowers: await manualApproval(rt.app.db),
        discoverable: true,
        publicKey: keys[0]?.cryptographicKey,
        assertionMethods: keys.map((k) => k.multikey),
      });
    })
    .mapHandle(async (_ctx, username) => (username === rt.handle || (await isLocalActor(rt, username)) ? username : null))
    .setKeyPairsDispatcher(async (_ctx, identifier) => {
      if (identifier !== rt.handle) return localActorKeys(rt, identifier);
      const keys = await rt.keys();
      return [keys.rsa, keys.ed25519];
    });

  federation.setObjectDispatcher(Article, '/announcements/{id}', async (_ctx, { id }) => {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const row = await findAnnouncement(rt.app.db, id);
    if (row?.origin !== 'local' || row.status !== 'published' || row.deleted_at) return null;
    return articleOf(row, rt.urls);
  });

  // Posts of discussions, at their thread page's URL; members-only ones only to signed readers.
  federation.setObjectDispatcher(Note, '/discussions/posts/{id}', (ctx, { id }) => servedNote(ctx, id));

  registerInboxListeners(federation.setInboxListeners('/ap/actors/{identifier}/inbox', '/inbox'));

  federation
    .setOutboxDispatcher('/ap/actors/{identifier}/outbox', async (ctx, identifier, cursor) => {
      if (cursor === null) return null;
      // Groups and people publish nothing here: their posts reach members through the group.
      if (identifier !== rt.handle) return (await isLocalActor(rt, identifier)) ? { items: [], nextCursor: null } : null;
      const offset = Math.max(0, Number.parseInt(cursor, 10) || 0);
      const rows = await listLocalPublishedPage(rt.app.db, PAGE, offset);
      const total = await countLocalPublished(rt.app.db);
      const items = rows.map((row) => {
        const article = articleOf(row, rt.urls);
        return new Create({
          id: new URL(`${row.ap_id}#create`),
          actor: ctx.getActorUri(identifier),
          object: article,
          published: article.published,
          to: article.toId,
          cc: article.ccId,
        });
      });
      return { items, nextCursor: cursorOf(offset + PAGE, total) };
    })
    .setCounter(async (_ctx, identifier) =>
      identifier === rt.handle ? countLocalPublished(rt.app.db) : (await isLocalActor(rt, identifier)) ? 0 : null,
    )
    .setFirstCursor(() => '0');

  federation
    .setFollowersDispatcher('/ap/actors/{identifier}/followers', async (_ctx, identifier, cursor) => {
      if (cursor === null) return null;
      // A group's followers are its accepted members (FEP-1b12).
      if (identifier !== rt.handle) return groupFollowersPage(rt, identifier, cursor);
      const offset = Math.max(0, Number.parseInt(cursor, 10) || 0);
      const rows = await listFollowers(rt.app.db, { status: 'accepted', limit: PAGE, offset });
      const items = rows.map((r) => ({
        id: new URL(r.actor_id),
        inboxId: new URL(r.inbox),
        endpoints: r.shared_inbox ? { sharedInbox: new URL(r.shared_inbox) } : null,
      }));
      return { items, nextCursor: rows.length === PAGE ? String(offset + PAGE) : null };
    })
    .setCounter((_ctx, identifier) => (identifier === rt.handle ? countFollowers(rt.app.db) : groupFollowersCount(rt, identifier)))
    .setFirstCursor(() => '0')
    .authorize((ctx, identifier) => identifier === rt.handle || mayReadFollowers(ctx, identifier));

  federation
    .setFollowingDispatcher('/ap/actors/{identifier}/following', async (_ctx, identifier, cursor) => {
      if (identifier !== rt.handle || cursor === null) return null;
      const offset = Math.max(0, Number.parseInt(cursor, 10) || 0);
      const rows = (await listFollows(rt.app.db)).filter((f) => f.status === 'accepted');
      const page = rows.slice(offset, offset + PAGE).map((r) => new URL(r.actor_id));
      return { items: page, nextCursor: cursorOf(offset + PAGE, rows.length) };
    })
    .setCounter((_ctx, identifier) => (identifier === rt.handle ? countFollows(rt.app.db) : null))
    .setFirstCursor(() => '0');

  federation.setNodeInfoDispatcher('/nodeinfo/2.1', async () => nodeInfo(rt.app));

  return federation;
}

export async function nodeInfo(app: AppContext) {
  const local = await countLocalPublished(app.db);
  const remote = await countRemoteAnnouncements(app.db);
  return {
    software: { name: SOFTWARE.name, version: SOFTWARE.version, homepage: new URL(app.config.publicUrl) },
    protocols: ['activitypub' as const],
    openRegistrations: false,
    usage: { users: { total: 1, activeMonth: 1, activeHalfyear: 1 }, localPosts: local, localComments: 0 },
    metadata: { nodeName: app.config.instanceName, receivedAnnouncements: remote },
  };
}

/** The Tombstone answered (410) for a deleted announcement. */
export async function tombstoneJson(apId: string, deletedAt: Date): Promise<unknown> {
  return new Tombstone({ id: new URL(apId), deleted: instant(deletedAt) }).toJsonLd({ format: 'compact' });
}
