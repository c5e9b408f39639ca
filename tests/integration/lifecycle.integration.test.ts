// The real program, as a volunteer runs it: it starts within 20 seconds, answers /healthz and the
// French home page, stops cleanly on SIGTERM, and starts again with its data kept. On PostgreSQL,
// a web process and a worker process start together against one database.
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../server/db/database.ts';
import { createPostgresDatabase, usingPostgres } from '../helpers/database.ts';
import { freePort, tempDir } from '../helpers/instance.ts';
import { type ProgramRun, runProgram, waitForOk, waitForOutput } from '../helpers/process.ts';

const kind = usingPostgres() ? 'postgresql' : 'pglite';
const cleanups: Array<() => Promise<void> | void> = [];
const running: ProgramRun[] = [];
afterAll(async () => {
  for (const run of running) await run.stop().catch(() => run.child.kill('SIGKILL'));
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function setUp(): Promise<{ env: Record<string, string>; open: () => Promise<DatabaseHandle> }> {
  const port = await freePort();
  const dataDir = tempDir('amap-lifecycle-');
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
  };
  if (usingPostgres()) {
    const { url, drop } = await createPostgresDatabase();
    cleanups.push(drop);
    env.DATABASE_URL = url;
    return { env, open: () => openDatabase({ databaseUrl: url, dataDir: '' }) };
  }
  return { env, open: () => openDatabase({ databaseUrl: undefined, dataDir }) };
}

function start(env: Record<string, string>): ProgramRun {
  const run = runProgram(env);
  running.push(run);
  return run;
}

async function withDatabase<T>(open: () => Promise<DatabaseHandle>, use: (handle: DatabaseHandle) => Promise<T>): Promise<T> {
  const handle = await open();
  try {
    return await use(handle);
  } finally {
    await handle.close();
  }
}

describe(`the program on ${kind}`, () => {
  it('starts within 20 seconds, serves /healthz and the French home page, stops on SIGTERM and restarts with its data', async () => {
    const { env, open } = await setUp();
    const base = env.PUBLIC_URL!;

    const first = start(env);
    const startedAt = Date.now();
    const health = await waitForOk(`${base}/healthz`, first, 60_000);
    const seconds = (Date.now() - startedAt) / 1000;
    expect(seconds, `started in ${seconds.toFixed(1)} s; the target is 20 s`).toBeLessThan(20);
    expect(health).toEqual({ status: 'ok', database: kind, migrated: true, role: 'all' });
    const home = await fetch(`${base}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toMatch(/text\/html/);
    expect(await home.text()).toMatch(/<html lang="fr">/);
    // Logs are structured (one JSON object a line) and carry a request id.
    const lines = first.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.some((line) => line.msg === 'instance started')).toBe(true);
    expect(lines.some((line) => (line.req as { id?: string } | undefined)?.id)).toBe(true);

    expect(await first.stop()).toBe(0);
    if (kind === 'pglite') expect(fs.existsSync(path.join(env.DATA_DIR!, 'pglite.lock'))).toBe(false);

    // Between the two runs, something is written (as an admin would through the program).
    await withDatabase(open, async ({ db }) => {
      await sql`insert into settings (key, value) values ('lifecycle.kept', '"yes"')`.execute(db);
    });

    const second = start(env);
    expect(await waitForOk(`${base}/healthz`, second, 60_000)).toMatchObject({ status: 'ok', database: kind });
    expect(second.stdout).not.toMatch(/database migrated/); // nothing left to migrate: the schema was kept
    expect(await second.stop()).toBe(0);

    await withDatabase(open, async ({ db }) => {
      const kept = await sql<{ value: unknown }>`select value from settings where key = 'lifecycle.kept'`.execute(db);
      expect(kept.rows[0]?.value).toBe('yes');
    });
  }, 180_000);

  it.runIf(!usingPostgres())(
    'refuses a second program on the same embedded database while the first runs',
    async () => {
      const { env } = await setUp();
      const first = start(env);
      await waitForOk(`${env.PUBLIC_URL}/healthz`, first, 60_000);
      const second = start({ ...env, PORT: String(await freePort()) });
      const { code } = await second.exited;
      expect(code).toBe(1);
      expect(second.stderr.trim()).toMatch(
        /^Cannot start: The embedded database in .+ is in use by another process \(instance \(all\), pid \d+/,
      );
      // The first one never noticed.
      expect((await fetch(`${env.PUBLIC_URL}/healthz`)).status).toBe(200);
      expect(await first.stop()).toBe(0);
    },
    120_000,
  );

  it.runIf(usingPostgres())(
    'runs a web process and a worker process together against one PostgreSQL database',
    async () => {
      const { env, open } = await setUp();
      const workerPort = await freePort();
      // Both start at the same moment on an empty database: each migrates, one of them waits for the other.
      const web = start({ ...env, PROCESS_ROLE: 'web' });
      const worker = start({ ...env, PORT: String(workerPort), PROCESS_ROLE: 'worker' });

      expect(await waitForOk(`${env.PUBLIC_URL}/healthz`, web, 60_000)).toMatchObject({
        status: 'ok',
        role: 'web',
        database: 'postgresql',
      });
      await waitForOutput(worker, /"msg":"instance started"/, 60_000);
      expect(worker.stdout).toMatch(/"role":"worker"/);
      // A worker does not listen for HTTP.
      await expect(fetch(`http://127.0.0.1:${workerPort}/healthz`)).rejects.toThrow();

      await withDatabase(open, async ({ db }) => {
        const rows = await sql<{ n: number }>`select count(*)::int as n from kysely_migration group by name having count(*) > 1`.execute(
          db,
        );
        expect(rows.rows).toEqual([]);
      });

      const [webCode, workerCode] = await Promise.all([web.stop(), worker.stop()]);
      expect(webCode).toBe(0);
      expect(workerCode).toBe(0);
    },
    120_000,
  );
});
