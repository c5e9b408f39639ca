// The accounts REST API: who am I, my API tokens, and (admins) the staff accounts.
import { Type } from 'typebox';
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { registerAccountPages } from './accounts.pages.ts';
import {
  CreatedTokenSchema,
  ErrorSchema,
  NewTokenSchema,
  NewUserSchema,
  TokenParams,
  TokenSchema,
  UserSchema,
  UserWithDateSchema,
} from './accounts.schemas.ts';
import {
  createApiToken,
  createUser,
  listApiTokens,
  listUsers,
  type PublicToken,
  type PublicUser,
  revokeApiToken,
} from './accounts.service.ts';
import { requireRole } from './guards.ts';
import { announceSetup, forgetSetupCodes } from './setup.ts';

const security = [{ bearer: [] }];
const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema };
const iso = (d: Date | null) => (d ? d.toISOString() : null);

function tokenOut(t: PublicToken) {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: iso(t.lastUsedAt),
    revokedAt: iso(t.revokedAt),
  };
}

function userOut(u: PublicUser) {
  return { id: u.id, email: u.email, displayName: u.displayName, role: u.role, createdAt: u.createdAt.toISOString() };
}

export async function registerAccounts(app: AppServer, ctx: AppContext): Promise<void> {
  await announceSetup(ctx);
  await registerAccountPages(app, ctx);

  app.get(
    '/api/v1/me',
    {
      schema: { tags: ['accounts'], summary: 'The account making the request', security, response: { 200: UserSchema, ...errors } },
      preHandler: requireRole('editor'),
    },
    async (request) => {
      const u = request.user!;
      return { id: u.id, email: u.email, displayName: u.displayName, role: u.role };
    },
  );

  app.get(
    '/api/v1/tokens',
    {
      schema: {
        tags: ['accounts'],
        summary: 'My API tokens (without their value)',
        security,
        response: { 200: Type.Array(TokenSchema), ...errors },
      },
      preHandler: requireRole('editor'),
    },
    async (request) => (await listApiTokens(ctx.db, request.user!.id)).map(tokenOut),
  );

  app.post(
    '/api/v1/tokens',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Create an API token (its value is shown once)',
        security,
        body: NewTokenSchema,
        response: { 201: CreatedTokenSchema, ...errors },
      },
      preHandler: requireRole('editor'),
    },
    async (request, reply) => {
      const created = await createApiToken(ctx.db, request.user!.id, request.body.name);
      return reply.code(201).send({ ...tokenOut(created), token: created.token });
    },
  );

  app.delete(
    '/api/v1/tokens/:id',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Revoke an API token',
        security,
        params: TokenParams,
        response: { 204: Type.Null(), 404: ErrorSchema, ...errors },
      },
      preHandler: requireRole('editor'),
    },
    async (request, reply) => {
      await revokeApiToken(ctx.db, request.user!, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/users',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Staff accounts (admins only)',
        security,
        response: { 200: Type.Array(UserWithDateSchema), ...errors },
      },
      preHandler: requireRole('admin'),
    },
    async () => (await listUsers(ctx.db)).map(userOut),
  );

  app.post(
    '/api/v1/users',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Add a staff account (admins only)',
        security,
        body: NewUserSchema,
        response: { 201: UserWithDateSchema, 409: ErrorSchema, ...errors },
      },
      preHandler: requireRole('admin'),
    },
    async (request, reply) => {
      const user = await createUser(ctx.db, request.body);
      if (user.role === 'admin') await forgetSetupCodes(ctx.db);
      return reply.code(201).send(userOut(user));
    },
  );
}
