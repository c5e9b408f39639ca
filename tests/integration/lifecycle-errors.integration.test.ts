// A start that cannot work stops at once, with exit code 1 and one sentence on stderr that names
// what to fix, and deletes nothing. Each case runs the real program (`node server/main.ts`).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../server/db/database.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';
import { createPostgresDatabase, usingPostgres } from '../helpers/database.ts';
import { freePort, tempDir } from '../helpers/instance.ts';
import { runToExit } from '../helpers/process.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function baseEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const port = await freePort();
  const dataDir = tempDir('amap-lifecycle-');
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  return { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...extra };
}

/** The start was refused the way a volunteer needs: exit 1 and one sentence naming the problem. */
function expectRefusal(result: { code: number | null; stderr: string }, ...words: RegExp[]): void {
  expect(result.code, result.stderr).toBe(1);
  const message = result.stderr.trim();
  expect(message.split('\n'), 'one line on stderr').toHaveLength(1);
  expect(message).toMatch(/^Cannot start: .+[.!?]$/);
  for (const word of words) expect(message).toMatch(word);
}

/** Where the database of a case lives: a DATA_DIR (embedded) or a fresh PostgreSQL database. */
async function databaseFor(env: Record<string, string>): Promise<{ open: () => Promise<DatabaseHandle> }> {
  if (usingPostgres()) {
    const { url, drop } = await createPostgresDatabase();
    cleanups.push(drop);
    env.DATABASE_URL = url;
    return { open: () => openDatabase({ databaseUrl: url, dataDir: '' }) };
  }
  return { open: () => openDatabase({ databaseUrl: undefined, dataDir: env.DATA_DIR! }) };
}

// Each case starts a Node process; on a busy machine that alone can take a while.
vi.setConfig({ testTimeout: 120_000 });

describe('a start that cannot work', () => {
  it('refuses a malformed PUBLIC_URL', async () => {
    const result = await runToExit(await baseEnv({ PUBLIC_URL: 'amap-aura.org' }));
    expectRefusal(result, /PUBLIC_URL/, /amap-aura\.org/, /https:\/\//);
  });

  it('refuses a PUBLIC_URL with a path', async () => {
    const result = await runToExit(await baseEnv({ PUBLIC_URL: 'https://amap-aura.org/hub' }));
    expectRefusal(result, /PUBLIC_URL/, /origin only/);
  });

  it('refuses a DATABASE_URL with the wrong scheme, without printing its password', async () => {
    const result = await runToExit(await baseEnv({ DATABASE_URL: 'mysql://amap:hunter2@127.0.0.1/amap' }));
    expectRefusal(result, /DATABASE_URL/, /postgres:\/\//);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('refuses a DATABASE_URL where no PostgreSQL answers', async () => {
    const closedPort = await freePort();
    const result = await runToExit(await baseEnv({ DATABASE_URL: `postgres://amap:hunter2@127.0.0.1:${closedPort}/amap` }));
    expectRefusal(result, /DATABASE_URL/, /Cannot reach PostgreSQL/, /connection refused/);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('refuses a DATA_DIR that cannot be created, and leaves what is there alone', async () => {
    const env = await baseEnv();
    // Tests run as root, who may write anywhere: a folder inside a regular file is impossible for anyone.
    const file = path.join(env.DATA_DIR!, 'not-a-folder');
    fs.writeFileSync(file, 'keep me');
    const result = await runToExit({ ...env, DATA_DIR: path.join(file, 'data') });
    expectRefusal(result, /DATA_DIR/, /not-a-folder\/data/, /written/);
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('refuses a database of a newer schema, and changes nothing in it', async () => {
    const env = await baseEnv();
    const database = await databaseFor(env);
    const before = await database.open();
    try {
      await migrateToLatest(before.db);
      await sql`insert into kysely_migration (name, timestamp) values ('2999-01-01-0001-future', now())`.execute(before.db);
      await sql`insert into settings (key, value) values ('lifecycle.kept', '"yes"')`.execute(before.db);
    } finally {
      await before.close();
    }

    const result = await runToExit(env);
    expectRefusal(result, /newer schema/, /2999-01-01-0001-future/, /nothing was changed/);

    const after = await database.open();
    try {
      const future = await sql<{ n: number }>`select count(*)::int as n from kysely_migration where name like '2999-%'`.execute(after.db);
      expect(future.rows[0]?.n).toBe(1);
      const kept = await sql<{ value: unknown }>`select value from settings where key = 'lifecycle.kept'`.execute(after.db);
      expect(kept.rows[0]?.value).toBe('yes');
    } finally {
      await after.close();
    }
  });

  it.runIf(!usingPostgres())('takes over a lock left by a crashed run that had the same pid (as in a container)', async () => {
    const env = await baseEnv();
    const dataDir = env.DATA_DIR!;
    fs.writeFileSync(path.join(dataDir, 'pglite.lock'), JSON.stringify({ pid: process.pid, owner: 'crashed', since: '2026-01-01' }));
    const handle = await openDatabase({ databaseUrl: undefined, dataDir });
    try {
      // ...but the same process opening the same folder twice is still refused.
      await expect(openDatabase({ databaseUrl: undefined, dataDir })).rejects.toThrow(/in use by another process/);
    } finally {
      await handle.close();
    }
    expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
  });

  it('refuses a PORT already in use, and releases the embedded database', async () => {
    const env = await baseEnv();
    await databaseFor(env);
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(Number(env.PORT), '127.0.0.1', resolve));
    try {
      const result = await runToExit(env);
      expectRefusal(result, new RegExp(`PORT ${env.PORT} is already in use`));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    // The data it created is still there, and no lock is left behind to block the next start.
    if (!usingPostgres()) {
      expect(fs.existsSync(path.join(env.DATA_DIR!, 'pglite', 'PG_VERSION'))).toBe(true);
      expect(fs.existsSync(path.join(env.DATA_DIR!, 'pglite.lock'))).toBe(false);
    }
  });
});
