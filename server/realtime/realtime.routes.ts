// GET /live: the live feed, a read-only WebSocket. A page opens it with ?topics=announcements and
// receives small JSON messages ({topic, data}) as things happen on any process of the instance.
import websocket from '@fastify/websocket';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { WebSocket } from 'ws';
import { hasRole } from '../accounts/guards.ts';
import { ConfigError } from '../config.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { RealtimeHub } from './realtime.hub.ts';
import { type RealtimeListener, startRealtimeListener } from './realtime.listener.ts';
import { decodeRealtimeMessage, isPublicTopic, isStaffTopic, PUBLIC_TOPICS } from './realtime.publish.ts';

/** Connections one process accepts at most (REALTIME_MAX_CONNECTIONS, default 10,000). */
export function maxRealtimeConnections(env: Record<string, string | undefined> = process.env): number {
  const raw = env.REALTIME_MAX_CONNECTIONS?.trim();
  if (!raw) return 10_000;
  if (!/^\d+$/.test(raw) || Number(raw) > 1_000_000) {
    throw new ConfigError('REALTIME_MAX_CONNECTIONS', 'must be a whole number from 0 (no live feed) to 1000000', raw);
  }
  return Number(raw);
}

const hubs = new WeakMap<AppContext, RealtimeHub>();

/** The hub of this instance (tests and metrics read it). */
export function realtimeHub(ctx: AppContext): RealtimeHub | undefined {
  return hubs.get(ctx);
}

export async function registerRealtime(app: AppServer, ctx: AppContext): Promise<void> {
  // Clients only listen: anything they send beyond a tiny frame closes the connection (1009).
  await app.register(websocket, { options: { maxPayload: 1024 } });
  const hub = new RealtimeHub({ maxConnections: maxRealtimeConnections() });
  hubs.set(ctx, hub);

  let listener: RealtimeListener | undefined;
  if (ctx.config.role !== 'worker') {
    listener = await startRealtimeListener(ctx.database, ctx.log, (payload) => {
      const message = decodeRealtimeMessage(payload);
      if (message) hub.dispatch(message.topic, message.json);
    });
  }
  app.addHook('onClose', async () => {
    hub.closeAll();
    await listener?.close();
  });

  app.get(
    '/live',
    {
      websocket: true,
      schema: {
        hide: true,
        querystring: Type.Object({ topics: Type.Optional(Type.String({ maxLength: 200 })) }),
      },
      // Refused before the upgrade, as a plain HTTP answer the client can read.
      preHandler: async (request) => {
        if (hub.full) throw new AppError('unavailable', 'Too many live connections on this server; try again later.');
        const topics = topicsOf((request.query as { topics?: string }).topics, isEditor(request));
        if (topics.length === 0) throw new AppError('bad_request', `Unknown topic; known topics: ${[...PUBLIC_TOPICS].join(', ')}.`);
      },
    },
    (socket, request) => {
      const topics = topicsOf((request.query as { topics?: string }).topics, isEditor(request));
      releaseUpgradeRequest(socket, request);
      hub.add(socket, topics);
      // Read-only: whatever a client sends is ignored.
      socket.on('message', () => {});
    },
  );
}

/**
 * Lets the HTTP request of the upgrade be collected: without this, each open socket keeps it
 * alive (the plugin's error listener holds the request and reply; the TCP socket still points to
 * the unused HTTP response, which holds the request), about 3 KB per connection (bench:realtime).
 * The hub installs its own error listener right after.
 */
function releaseUpgradeRequest(socket: WebSocket, request: FastifyRequest): void {
  socket.removeAllListeners('error');
  const tcp = request.raw.socket as unknown as { _httpMessage?: { detachSocket?: (s: unknown) => void } | null };
  tcp._httpMessage?.detachSocket?.(request.raw.socket);
}

/** Staff topics are given only to a signed-in editor or admin; to anyone else they are unknown. */
const isEditor = (request: FastifyRequest): boolean => request.user !== null && hasRole(request.user, 'editor');

function topicsOf(param: string | undefined, editor: boolean): string[] {
  const asked = (param ?? 'announcements').split(',').map((t) => t.trim());
  return [...new Set(asked.filter((t) => isPublicTopic(t) || (editor && isStaffTopic(t))))];
}
