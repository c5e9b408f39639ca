// GET /healthz says 200 only once the database answers and is fully migrated, and which database
// it is; every answer carries a request id (the caller's, when it gives a sane one).
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';
import { openTestDatabase, type TestDatabase, usingPostgres } from '../helpers/database.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';

const kind = usingPostgres() ? 'postgresql' : 'pglite';
// One test opens, migrates and builds a second instance: slow on a busy machine.
vi.setConfig({ testTimeout: 120_000 });

describe(`/healthz on ${kind}`, () => {
  let instance: TestInstance | undefined;
  let bare: TestDatabase | undefined;
  beforeAll(async () => {
    instance = await startTestInstance();
  });
  afterAll(async () => {
    await instance?.destroy();
    await bare?.close();
  });

  it('answers 200 with the database in use once migrated', async () => {
    const response = await fetch(`${instance!.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', database: kind, migrated: true, role: 'all' });
    expect(response.headers.get('x-request-id')).toMatch(/^[\w.-]{8,64}$/);
  });

  it('keeps a sane request id given by a proxy, and replaces one that is not', async () => {
    const url = `${instance!.url}/healthz`;
    const kept = await fetch(url, { headers: { 'x-request-id': 'proxy-id-12345678' } });
    expect(kept.headers.get('x-request-id')).toBe('proxy-id-12345678');
    const replaced = await fetch(url, { headers: { 'x-request-id': 'bad id <script>' } });
    expect(replaced.headers.get('x-request-id')).not.toContain('<');
  });

  it('answers 503 while a migration is missing, and 200 once it is applied', async () => {
    bare = await openTestDatabase();
    await migrateToLatest(bare.db);
    const { app } = await buildApp(loadConfig({ LOG_LEVEL: 'silent' }), bare);
    try {
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      // As if a newer program version had been installed but not yet migrated this database.
      const last = await sql<{ name: string }>`select max(name) as name from kysely_migration`.execute(bare.db);
      await sql`delete from kysely_migration where name = ${last.rows[0]!.name}`.execute(bare.db);
      const before = await app.inject({ method: 'GET', url: '/healthz' });
      expect(before.statusCode).toBe(503);
      expect(before.json()).toMatchObject({ status: 'unavailable', migrated: false, database: kind });
      await sql`insert into kysely_migration (name, timestamp) values (${last.rows[0]!.name}, now())`.execute(bare.db);
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('is described in the OpenAPI document', async () => {
    const response = await fetch(`${instance!.url}/api/openapi.json`);
    const spec = (await response.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toContain('/healthz');
  });
});
