// GET /healthz: 200 once the database answers and every migration is applied, 503 otherwise.
// Load balancers and the README's first check use it; it says which database is in use.

import { sql } from 'kysely';
import { Type } from 'typebox';
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { isMigrated } from '../db/migrate.ts';

const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  database: Type.Union([Type.Literal('pglite'), Type.Literal('postgresql')]),
  migrated: Type.Boolean(),
  role: Type.String(),
});

export async function healthRoutes(app: AppServer, ctx: AppContext): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['instance'],
        summary: 'Health of this instance',
        response: { 200: HealthSchema, 503: HealthSchema },
      },
    },
    async (_request, reply) => {
      let migrated = false;
      try {
        await sql`select 1`.execute(ctx.db);
        migrated = await isMigrated(ctx.db);
      } catch {
        migrated = false;
      }
      const body = {
        status: migrated ? ('ok' as const) : ('unavailable' as const),
        database: ctx.database.kind,
        migrated,
        role: ctx.config.role,
      };
      return reply.code(migrated ? 200 : 503).send(body);
    },
  );
}
