// A throw-away database for one test file: a fresh PostgreSQL database when DATABASE_URL is set
// (the server must let that user create databases), an in-memory PGlite otherwise. Migrated.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type DatabaseHandle, openDatabase } from '../../server/db/database.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';
import { seedDataDir } from './pglite-template.ts';

export const usingPostgres = (): boolean => Boolean(process.env.DATABASE_URL);

/** A connection string for a new, empty PostgreSQL database, and a function that drops it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = process.env.DATABASE_URL;
  if (!admin) throw new Error('DATABASE_URL is not set');
  const name = `amap_test_${crypto.randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface TestDatabase extends DatabaseHandle {
  /** The PostgreSQL connection string when on PostgreSQL. */
  url?: string;
}

/** Open (not migrated) a fresh database; `close()` also drops it. */
export async function openTestDatabase(): Promise<TestDatabase> {
  if (usingPostgres()) {
    const { url, drop } = await createPostgresDatabase();
    const handle = await openDatabase({ databaseUrl: url, dataDir: '' });
    return {
      ...handle,
      url,
      close: async () => {
        await handle.close();
        await drop();
      },
    };
  }
  return openDatabase({ databaseUrl: undefined, dataDir: '', memory: true });
}

/** A fresh, migrated database (on PGlite, a copy of a migrated template: seconds faster). */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!usingPostgres()) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'amap-testdb-'));
    await seedDataDir(dataDir);
    const handle = await openDatabase({ databaseUrl: undefined, dataDir, owner: 'test' });
    return {
      ...handle,
      close: async () => {
        await handle.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const handle = await openTestDatabase();
  await migrateToLatest(handle.db);
  return handle;
}
