// buildApp(config): the whole instance as a Fastify application, without listening.
// Plugins (cross-cutting) first, then one module per capability. Tests build apps with this.
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Logger } from 'pino';
import { registerAccounts } from './accounts/accounts.routes.ts';
import { registerAuth } from './accounts/auth.plugin.ts';
import { registerAnnouncements } from './announcements/announcements.routes.ts';
import type { Config } from './config.ts';
import type { AppContext } from './core/context.ts';
import { registerErrorHandler } from './core/error-handler.ts';
import { DomainEvents } from './core/events.ts';
import type { AppServer } from './core/http.ts';
import './core/request-user.ts';
import { createLogger } from './core/logger.ts';
import type { DatabaseHandle } from './db/database.ts';
import { registerDiscussions, registerMemberAuth } from './discussions/discussions.module.ts';
import { federation } from './federation/federation.module.ts';
import { healthRoutes } from './health/health.routes.ts';
import { JobQueue } from './jobs/queue.ts';
import { registerMedia } from './media/media.module.ts';
import { registerNewsletters } from './newsletters/newsletters.module.ts';
import { registerResources } from './resources/resources.routes.ts';
import { registerSubscribers } from './subscribers/subscribers.module.ts';
import { registerAdminPages } from './web/admin.pages.ts';
import { registerHomePages } from './web/home.pages.ts';

export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web');

export interface App {
  app: AppServer;
  ctx: AppContext;
}

export interface DeclaredRoute {
  method: string;
  url: string;
  schema: { params?: unknown; querystring?: unknown; body?: unknown; hide?: boolean } | undefined;
}

const declaredRoutes = new WeakMap<object, DeclaredRoute[]>();

/** The routes `app` declared (method, URL, schema), in order. */
export function routesOf(app: object): DeclaredRoute[] {
  return declaredRoutes.get(app) ?? [];
}

export interface BuildOptions {
  logger?: Logger;
}

export async function buildApp(config: Config, database: DatabaseHandle, options: BuildOptions = {}): Promise<App> {
  const log = options.logger ?? createLogger(config);
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{8,64}$/.test(given) ? given : crypto.randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const ctx: AppContext = {
    config,
    database,
    db: database.db,
    queue: new JobQueue(database, log),
    events: new DomainEvents(),
    log,
  };

  // Every route, as declared (tests check that each one validates its input: schemas on every route).
  const declared: DeclaredRoute[] = [];
  declaredRoutes.set(app, declared);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') declared.push({ method, url: route.url, schema: route.schema as DeclaredRoute['schema'] });
    }
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerErrorHandler(app);
  app.decorateRequest('user', null);

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 256 * 1024 });
  // Who is asking (session or API token) and CSRF checks: on the root app, so for every route.
  await registerAuth(app, ctx);
  await registerMemberAuth(app, ctx);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: `${config.instanceName} API`,
        description:
          'REST API of an AMAP network instance. Authenticate with `Authorization: Bearer <token>` (see `npm run cli -- token add`).',
        version: '1',
      },
      servers: [{ url: config.publicUrl }],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API token' } },
      },
    },
    // Only the REST API and the health check are described; pages and federation endpoints are not an API.
    hideUntagged: true,
  });
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    // No request may leave for a third party: no spec validator badge, and plain http must keep
    // working on a local instance (no upgrade-insecure-requests).
    uiConfig: { validatorUrl: null },
    staticCSP: true,
    transformStaticCSP: (header) =>
      header
        .replace(/upgrade-insecure-requests;?/, '')
        .replace(/ validator\.swagger\.io/, '')
        .replace(/ https:/g, ''),
    logLevel: 'warn',
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(fastifyStatic, {
    root: WEB_DIR,
    prefix: '/static/',
    maxAge: '7d',
    index: false,
    allowedPath: (pathName) => !pathName.includes('..'),
  });

  // Federation first: its root hook answers ActivityPub requests for /announcements/:id pages.
  await app.register(federation(ctx));
  await app.register(async (scope) => healthRoutes(scope, ctx));
  await app.register(async (scope) => registerAccounts(scope, ctx));
  await app.register(async (scope) => registerHomePages(scope, ctx));
  await app.register(async (scope) => registerAdminPages(scope, ctx));
  await app.register(async (scope) => registerMedia(scope, ctx));
  await app.register(async (scope) => registerAnnouncements(scope, ctx));
  await app.register(async (scope) => registerSubscribers(scope, ctx));
  await app.register(async (scope) => registerNewsletters(scope, ctx));
  await app.register(async (scope) => registerResources(scope, ctx));
  await app.register(async (scope) => registerDiscussions(scope, ctx));

  return { app, ctx };
}
