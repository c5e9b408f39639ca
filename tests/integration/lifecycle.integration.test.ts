// The real program, as a volunteer runs it: it starts, answers /healthz and the French home page, stops cleanly on SIGTERM, and starts again with its data kept. On PostgreSQL,
// a web process and a worker process start together against one database. How fast it starts is
// measured by `npm run bench:startup`, not here (a timed test fails on a busy machine).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../server/db/database.ts';
import { cookieFrom, csrfFrom, loginSession } from '../helpers/accounts.ts';
import { createPostgresDatabase, usingPostgres } from '../helpers/database.ts';
import { freePort, tempDir } from '../helpers/instance.ts';
import { type ProgramRun, runProgram, waitForOk, waitForOutput } from '../helpers/process.ts';

const kind = usingPostgres() ? 'postgresql' : 'pglite';
const ADMIN_EMAIL = 'ada@example.org';
const ADMIN_PASSWORD = 'un mot de passe assez long';
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
  it('starts, serves /healthz and the French home page, stops on SIGTERM and restarts with its data kept', async () => {
    const { env, open } = await setUp();
    const base = env.PUBLIC_URL!;

    const first = start(env);
    const health = await waitForOk(`${base}/healthz`, first, 90_000);
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
    // ...and no personal data: no client address, no browser fingerprint.
    expect(first.stdout).not.toMatch(/remoteAddress|remotePort|user-agent/i);

    // First run, as a volunteer does it: the setup code from the log creates the first admin.
    const code = /setup code ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})/.exec(first.stdout)?.[1];
    expect(code, 'a setup code in the log').toBeDefined();
    const setupPage = await fetch(`${base}/setup`);
    const created = await fetch(`${base}/setup`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `amap_csrf=${cookieFrom(setupPage, 'amap_csrf')}` },
      body: new URLSearchParams({
        code: code!,
        email: ADMIN_EMAIL,
        displayName: 'Ada',
        password: ADMIN_PASSWORD,
        password2: ADMIN_PASSWORD,
        _csrf: csrfFrom(await setupPage.text()),
      }).toString(),
    });
    expect(created.status).toBe(303);

    expect(await first.stop()).toBe(0);
    if (kind === 'pglite') expect(fs.existsSync(path.join(env.DATA_DIR!, 'pglite.lock'))).toBe(false);

    // Second run: same data, so no setup code any more, and the admin can sign in.
    const second = start(env);
    expect(await waitForOk(`${base}/healthz`, second, 60_000)).toMatchObject({ status: 'ok', database: kind });
    expect(second.stdout).not.toMatch(/database migrated/); // nothing left to migrate: the schema was kept
    expect(second.stdout).not.toMatch(/setup code/);
    const session = await loginSession(base, ADMIN_EMAIL, ADMIN_PASSWORD);
    const admin = await fetch(`${base}/admin`, { headers: { cookie: session.cookie } });
    expect(admin.status).toBe(200);
    expect(await second.stop()).toBe(0);

    await withDatabase(open, async ({ db }) => {
      const users = await sql<{ n: number }>`select count(*)::int as n from users where role = 'admin'`.execute(db);
      expect(users.rows[0]?.n).toBe(1);
    });
  }, 180_000);

  it('lets a request in flight finish after SIGTERM, refuses new connections, then exits 0', async () => {
    const { env } = await setUp();
    const run = start(env);
    await waitForOk(`${env.PUBLIC_URL}/healthz`, run, 60_000);

    // A form post whose body is still arriving when the signal comes.
    const body = 'email=ada%40example.org&password=not-the-right-one';
    const request = http.request(`${env.PUBLIC_URL}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    });
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      request.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      request.on('error', reject);
    });
    request.write(body.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 300));

    run.child.kill('SIGTERM');
    await waitForOutput(run, /"msg":"stopping"/, 30_000);
    await expect(fetch(`${env.PUBLIC_URL}/healthz`)).rejects.toThrow(); // no new connection
    expect(run.child.exitCode).toBeNull(); // still waiting for our request

    request.end(body.slice(10));
    const answered = await response;
    expect(answered.status).toBeGreaterThanOrEqual(200);
    expect(answered.status).toBeLessThan(500);
    expect(answered.text.length).toBeGreaterThan(0);
    expect((await run.exited).code).toBe(0);
    // The address typed in the form never reaches the logs.
    expect(run.stdout + run.stderr).not.toMatch(/ada(@|%40)example\.org/);
  }, 240_000);

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

      // Work recorded by the web process is done by the worker: a subscription's confirmation email
      // is queued by the web process and written to the outbox (no SMTP_URL) by the worker.
      const outbox = path.join(env.DATA_DIR!, 'outbox');
      const subscribed = await fetch(`${env.PUBLIC_URL}/newsletter`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: 'grace@example.org', consent: 'yes' }).toString(),
      });
      expect(subscribed.status).toBe(200);
      const emails = () => (fs.existsSync(outbox) ? fs.readdirSync(outbox).filter((name) => name.endsWith('.eml')) : []);
      const deadline = Date.now() + 60_000;
      while (emails().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(emails()).toHaveLength(1);
      expect(fs.readFileSync(path.join(outbox, emails()[0]!), 'utf8')).toMatch(/grace@example\.org/);
      expect(web.stdout + worker.stdout).not.toMatch(/grace@example\.org/); // never in the logs

      const [webCode, workerCode] = await Promise.all([web.stop(), worker.stop()]);
      expect(webCode).toBe(0);
      expect(workerCode).toBe(0);
    },
    120_000,
  );
});
