// The federation capability: builds the runtime, the delivery queues and Fedify; mounts Fedify's
// endpoints in Fastify; turns local announcement events into outgoing activities (recorded in the
// publisher's transaction); and adds the REST API and admin pages.
//
// It is registered at the root (skip-override) because ActivityPub clients ask for
// /announcements/:id, the announcements' own HTML page: a root onRequest hook answers them with
// the Article, and lets every other request through to the HTML route.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import '../announcements/announcements.events.ts';
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { articleOf, createOf, deleteOf, toJson, updateOf } from './activities.ts';
import { handleWithFedify, wantsActivityJson } from './adapter.ts';
import { findAnnouncement } from './announcements-read.repository.ts';
import { Delivery, enqueueToFollowers } from './delivery.ts';
import { removedPostTombstone } from './discussions-actors.ts';
import { registerGroupProfileOutbox } from './discussions-group-profile.ts';
import { registerDiscussionOutbox } from './discussions-outbox.ts';
import { federationPages } from './federation.pages.ts';
import { isBlocked } from './federation.repository.ts';
import { federationRoutes } from './federation.routes.ts';
import { buildFederation, nodeInfo, tombstoneJson } from './federation.ts';
import { PgBossMessageQueue } from './fedify-queue.ts';
import { receiveDirectly } from './inbox-direct.ts';
import { FederationRuntime } from './runtime.ts';
import { keyOnActorServer } from './signing-key-origin.ts';

/** Largest activity accepted in an inbox. */
export const INBOX_BODY_LIMIT = 256 * 1024;

const runtimes = new WeakMap<AppContext, { rt: FederationRuntime; delivery: Delivery }>();

/** The federation parts of a built app (tests and the benchmark reach them here). */
export function federationOf(ctx: AppContext): { rt: FederationRuntime; delivery: Delivery } | undefined {
  return runtimes.get(ctx);
}

function subscribeToAnnouncements(rt: FederationRuntime): void {
  const { events } = rt.app;
  events.on('announcement.published', async ({ id }, trx) => {
    const row = await findAnnouncement(trx, id);
    if (row?.origin !== 'local') return;
    await enqueueToFollowers(rt, trx, await toJson(createOf(articleOf(row, rt.urls), rt.urls)));
  });
  events.on('announcement.updated', async ({ id }, trx) => {
    const row = await findAnnouncement(trx, id);
    if (row?.origin !== 'local' || row.status !== 'published') return;
    await enqueueToFollowers(rt, trx, await toJson(updateOf(articleOf(row, rt.urls), rt.urls)));
  });
  events.on('announcement.deleted', async ({ apId }, trx) => {
    await enqueueToFollowers(rt, trx, await toJson(deleteOf(apId, rt.urls)));
  });
}

async function federationPlugin(app: AppServer, ctx: AppContext): Promise<void> {
  const rt = new FederationRuntime(ctx);
  const queue = new PgBossMessageQueue(ctx.queue, ctx.log);
  const delivery = new Delivery(rt);
  const federation = buildFederation(rt, queue);
  rt.federation = federation;
  runtimes.set(ctx, { rt, delivery });
  subscribeToAnnouncements(rt);
  registerDiscussionOutbox(rt);
  registerGroupProfileOutbox(rt);

  // Incoming activities are processed by workers only (PROCESS_ROLE all or worker).
  const stopQueue = new AbortController();
  if (ctx.config.role !== 'web') void federation.startQueue(rt, { signal: stopQueue.signal });
  // Generate (first start) or load the keys in the background as soon as the app is ready: the
  // first WebFinger does not pay for it (not awaited: a slow machine must not fail the start).
  app.addHook('onReady', async () => {
    rt.keys().catch((error) => ctx.log.error({ err: error }, 'federation: could not load the instance keys'));
  });
  app.addHook('onClose', async () => {
    stopQueue.abort();
    await Promise.all([queue.stop(), delivery.stop()]);
    rt.guard.close();
  });

  const publicUrl = ctx.config.publicUrl;
  const fedify = async (request: FastifyRequest, reply: FastifyReply) => {
    await handleWithFedify(request, reply, {
      federation,
      contextData: rt,
      publicUrl,
      onNotFound: () => Response.json({ error: { code: 'not_found', message: 'Not found' } }, { status: 404 }),
      // A browser asking for the actor gets the home page.
      onNotAcceptable: () => new Response(null, { status: 303, headers: { location: `${publicUrl}/` } }),
    });
    return reply;
  };

  // Announcements as Articles, at their HTML page's URL (root hook: the route is not ours).
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return;
    const match = /^\/announcements\/([0-9a-f-]{36})$/i.exec(request.url.split('?')[0] ?? '');
    if (!match || !wantsActivityJson(request)) return;
    const row = await findAnnouncement(ctx.db, match[1] as string);
    if (row?.origin === 'local' && row.deleted_at) {
      const body = JSON.stringify(await tombstoneJson(row.ap_id, row.deleted_at));
      return reply.code(410).type('application/activity+json').send(body);
    }
    if (await handleWithFedify(request, reply, { federation, contextData: rt, publicUrl })) return reply;
  });

  // Discussion posts as Notes at their thread page's URL. Whatever cannot be shown (unknown, held,
  // members-only to an outsider) is a plain 404, never the HTML page.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return;
    const match = /^\/discussions\/posts\/([0-9a-f-]{36})$/i.exec(request.url.split('?')[0] ?? '');
    if (!match || !wantsActivityJson(request)) return;
    const gone = await removedPostTombstone(ctx.db, match[1] as string);
    if (gone) return reply.code(410).type('application/activity+json').send(JSON.stringify(gone));
    const notFound = () => Response.json({ error: { code: 'not_found', message: 'Not found' } }, { status: 404 });
    await handleWithFedify(request, reply, { federation, contextData: rt, publicUrl, onNotFound: notFound, onNotAcceptable: notFound });
    return reply;
  });

  await app.register(async (scope) => {
    // Keep ActivityPub bodies raw: Fedify checks the Digest against the exact bytes.
    for (const type of ['application/activity+json', 'application/ld+json']) {
      scope.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: INBOX_BODY_LIMIT }, (_req, body, done) => done(null, body));
    }
    const hidden = { schema: { hide: true } };
    scope.get('/.well-known/webfinger', hidden, fedify);
    scope.get('/nodeinfo/2.1', hidden, fedify);
    scope.get('/.well-known/nodeinfo', hidden, async () => ({
      links: [
        { rel: 'http://nodeinfo.diaspora.software/ns/schema/2.0', href: `${publicUrl}/nodeinfo/2.0` },
        { rel: 'http://nodeinfo.diaspora.software/ns/schema/2.1', href: `${publicUrl}/nodeinfo/2.1` },
      ],
    }));
    scope.get('/nodeinfo/2.0', hidden, async (_request, reply) => {
      const info = await nodeInfo(ctx);
      const { homepage: _omit, ...software } = info.software;
      return reply
        .type('application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.0#"')
        .send({ version: '2.0', ...info, software, services: { inbound: [], outbound: [] } });
    });
    scope.get('/ap/*', hidden, fedify);
    const inbox = async (request: FastifyRequest, reply: FastifyReply) => {
      const body = request.body;
      if (!Buffer.isBuffer(body)) {
        return reply.code(415).send({ error: { code: 'unsupported_media_type', message: 'Send application/activity+json.' } });
      }
      let activity: Record<string, unknown>;
      try {
        activity = JSON.parse(body.toString('utf8'));
      } catch {
        return reply.code(400).send({ error: { code: 'bad_request', message: 'The body is not valid JSON.' } });
      }
      if (!activity || typeof activity !== 'object' || Array.isArray(activity)) {
        return reply.code(400).send({ error: { code: 'bad_request', message: 'The body is not an ActivityPub activity.' } });
      }
      const actor = activity.actor;
      const actorId = typeof actor === 'string' ? actor : typeof actor === 'object' && actor ? (actor as { id?: unknown }).id : undefined;
      if (typeof actorId === 'string' && (await isBlocked(ctx.db, actorId))) {
        return reply.code(403).send({ error: { code: 'forbidden', message: 'This server or actor is blocked here.' } });
      }
      if (typeof actorId === 'string' && !keyOnActorServer(request.headers, actorId)) {
        return reply.code(401).send({ error: { code: 'unauthorized', message: "The signing key is not hosted on the actor's server." } });
      }
      // A followed network's announcement is stored on arrival; everything else goes to Fedify.
      if (await receiveDirectly(rt, request, activity)) return reply.code(202).send();
      return fedify(request, reply);
    };
    scope.post('/ap/*', hidden, inbox);
    scope.post('/inbox', hidden, inbox);
  });

  await app.register(async (scope) => federationRoutes(scope, rt));
  await app.register(async (scope) => federationPages(scope, rt));
}

/** For server/app.ts: `await app.register(federation(ctx));` (registered at the root, see above). */
export function federation(ctx: AppContext) {
  const plugin = (app: FastifyInstance) => federationPlugin(app as unknown as AppServer, ctx);
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true });
}
