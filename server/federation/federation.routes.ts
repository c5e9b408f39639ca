// REST API of federation, for administrators: follow other networks, see and manage our
// followers, the blocklist, and whether followers are approved by hand.
import { Type } from 'typebox';
import { requireRole } from '../accounts/guards.ts';
import type { AppServer } from '../core/http.ts';
import { deleteBlock, listBlocks, listFollowers, listFollows } from './federation.repository.ts';
import { manualApproval, setManualApproval } from './federation-settings.repository.ts';
import { acceptFollower, block, followTarget, rejectFollower, unfollow } from './follows.service.ts';
import type { FederationRuntime } from './runtime.ts';

const tags = ['federation'];
const security = [{ bearer: [] }];
const Id = Type.Object({ id: Type.String({ format: 'uuid' }) });
const ErrorBody = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) });

const Follow = Type.Object({
  id: Type.String(),
  actorId: Type.String(),
  handle: Type.Union([Type.String(), Type.Null()]),
  name: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('rejected')]),
  createdAt: Type.String({ format: 'date-time' }),
});
const Follower = Type.Object({
  id: Type.String(),
  actorId: Type.String(),
  handle: Type.Union([Type.String(), Type.Null()]),
  name: Type.Union([Type.String(), Type.Null()]),
  host: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('accepted')]),
  createdAt: Type.String({ format: 'date-time' }),
});
const Block = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('host'), Type.Literal('actor')]),
  value: Type.String(),
});

export function federationRoutes(app: AppServer, rt: FederationRuntime): void {
  const admin = requireRole('admin');
  const db = rt.app.db;

  app.post(
    '/api/v1/follows',
    {
      preHandler: admin,
      schema: {
        tags,
        security,
        summary: 'Follow another network (handle name@host or actor URL)',
        body: Type.Object({ target: Type.String({ minLength: 3, maxLength: 500 }) }),
        response: {
          201: Type.Object({ id: Type.String(), created: Type.Boolean() }),
          200: Type.Object({ id: Type.String(), created: Type.Boolean() }),
          404: ErrorBody,
          502: ErrorBody,
          504: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const result = await followTarget(rt, request.body.target);
      return reply.code(result.created ? 201 : 200).send(result);
    },
  );

  app.get(
    '/api/v1/follows',
    {
      preHandler: admin,
      schema: { tags, security, summary: 'Networks this instance follows', response: { 200: Type.Object({ items: Type.Array(Follow) }) } },
    },
    async () => ({
      items: (await listFollows(db)).map((f) => ({
        id: f.id,
        actorId: f.actor_id,
        handle: f.handle,
        name: f.name,
        status: f.status,
        createdAt: f.created_at.toISOString(),
      })),
    }),
  );

  app.delete(
    '/api/v1/follows/:id',
    {
      preHandler: admin,
      schema: { tags, security, summary: 'Stop following (sends Undo Follow)', params: Id, response: { 204: Type.Null(), 404: ErrorBody } },
    },
    async (request, reply) => {
      await unfollow(rt, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/followers',
    {
      preHandler: admin,
      schema: {
        tags,
        security,
        summary: 'Actors following this instance',
        querystring: Type.Object({ status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('accepted')])) }),
        response: { 200: Type.Object({ items: Type.Array(Follower) }) },
      },
    },
    async (request) => ({
      items: (await listFollowers(db, request.query.status ? { status: request.query.status } : {})).map((f) => ({
        id: f.id,
        actorId: f.actor_id,
        handle: f.handle,
        name: f.name,
        host: f.host,
        status: f.status,
        createdAt: f.created_at.toISOString(),
      })),
    }),
  );

  app.post(
    '/api/v1/followers/:id/accept',
    {
      preHandler: admin,
      schema: { tags, security, summary: 'Accept a pending follower', params: Id, response: { 204: Type.Null(), 404: ErrorBody } },
    },
    async (request, reply) => {
      await acceptFollower(rt, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/followers/:id/reject',
    {
      preHandler: admin,
      schema: { tags, security, summary: 'Refuse a pending follower', params: Id, response: { 204: Type.Null(), 404: ErrorBody } },
    },
    async (request, reply) => {
      await rejectFollower(rt, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/api/v1/followers/:id',
    {
      preHandler: admin,
      schema: { tags, security, summary: 'Remove a follower (sends Reject)', params: Id, response: { 204: Type.Null(), 404: ErrorBody } },
    },
    async (request, reply) => {
      await rejectFollower(rt, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/blocks',
    {
      preHandler: admin,
      schema: { tags, security, summary: 'Blocked servers and actors', response: { 200: Type.Object({ items: Type.Array(Block) }) } },
    },
    async () => ({ items: (await listBlocks(db)).map((b) => ({ id: b.id, kind: b.kind, value: b.value })) }),
  );

  app.post(
    '/api/v1/blocks',
    {
      preHandler: admin,
      schema: {
        tags,
        security,
        summary: 'Block a server (example.org) or an actor (URL)',
        body: Type.Object({ value: Type.String({ minLength: 1, maxLength: 500 }) }),
        response: { 201: Block },
      },
    },
    async (request, reply) => reply.code(201).send(await block(rt, request.body.value)),
  );

  app.delete(
    '/api/v1/blocks/:id',
    { preHandler: admin, schema: { tags, security, summary: 'Unblock', params: Id, response: { 204: Type.Null(), 404: ErrorBody } } },
    async (request, reply) => {
      if (!(await deleteBlock(db, request.params.id)))
        return reply.code(404).send({ error: { code: 'not_found', message: 'This block does not exist.' } });
      return reply.code(204).send(null);
    },
  );

  const Settings = Type.Object({ manualApproval: Type.Boolean() });
  app.get(
    '/api/v1/federation/settings',
    { preHandler: admin, schema: { tags, security, summary: 'Federation settings', response: { 200: Settings } } },
    async () => ({ manualApproval: await manualApproval(db) }),
  );
  app.put(
    '/api/v1/federation/settings',
    { preHandler: admin, schema: { tags, security, summary: 'Change federation settings', body: Settings, response: { 200: Settings } } },
    async (request) => {
      await setManualApproval(db, request.body.manualApproval);
      return { manualApproval: request.body.manualApproval };
    },
  );
}
