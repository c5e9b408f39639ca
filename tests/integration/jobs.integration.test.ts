// The job queue keeps its promises across restarts and failures: a job sent inside a transaction
// exists only if it commits, survives a stop before it ran, is handled once, is retried with a
// growing delay, lands in `<queue>.dead` when it keeps failing, and a stop lets a running job finish.
import fs from 'node:fs';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../server/db/database.ts';
import { JobQueue, type QueueDefinition } from '../../server/jobs/queue.ts';
import { createPostgresDatabase, usingPostgres } from '../helpers/database.ts';
import { tempDir } from '../helpers/instance.ts';

const kind = usingPostgres() ? 'PostgreSQL' : 'PGlite';
const silent = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A database that outlives the handles opened on it: a DATA_DIR for PGlite, a fresh PostgreSQL database. */
async function durableDatabase(): Promise<() => Promise<DatabaseHandle>> {
  if (usingPostgres()) {
    const { url, drop } = await createPostgresDatabase();
    cleanups.push(drop);
    return () => openDatabase({ databaseUrl: url, dataDir: '' });
  }
  const dataDir = tempDir('amap-jobs-');
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  return () => openDatabase({ databaseUrl: undefined, dataDir });
}

function queueOn<T extends object>(handle: DatabaseHandle, definition: QueueDefinition<T>): JobQueue {
  const queue = new JobQueue(handle, silent);
  queue.define(definition);
  return queue;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function jobState(handle: DatabaseHandle, id: string): Promise<string | undefined> {
  const result = await sql<{ state: string }>`select state from pgboss.job where id = ${id}`.execute(handle.db);
  return result.rows[0]?.state;
}

// Restarts open the database again (PGlite takes a few seconds to open); retries wait real seconds.
vi.setConfig({ testTimeout: 120_000 });

describe(`job queue on ${kind}`, () => {
  it('keeps a job sent before a stop, and handles it exactly once after the restart', async () => {
    const open = await durableDatabase();
    const neverHere: string[] = [];

    // First run: a web process (no worker) records the job inside a transaction, then stops.
    const first = await open();
    let id: string | null = null;
    try {
      const queue = queueOn<{ n: number }>(first, {
        name: 'test.restart',
        handler: async (_data, job) => {
          neverHere.push(job.id);
        },
      });
      await queue.start({ work: false });
      id = await first.db.transaction().execute((trx) => queue.send('test.restart', { n: 42 }, { trx }));
      // A job sent in a transaction that rolls back never exists.
      await expect(
        first.db.transaction().execute(async (trx) => {
          await queue.send('test.restart', { n: -1 }, { trx });
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await queue.stop();
    } finally {
      await first.close();
    }
    expect(id).toEqual(expect.any(String));
    expect(neverHere).toEqual([]);

    // Second run: a worker picks it up.
    const second = await open();
    try {
      const handled: Array<{ id: string; n: number }> = [];
      const queue = queueOn<{ n: number }>(second, {
        name: 'test.restart',
        handler: async (data, job) => {
          handled.push({ id: job.id, n: data.n });
        },
      });
      await queue.start({ work: true });
      await until(() => handled.length > 0, 'the job to be handled');
      await sleep(1500); // three polling intervals: a duplicate would show up by now
      await queue.stop();
      expect(handled).toEqual([{ id, n: 42 }]);
      expect(await jobState(second, id!)).toBe('completed');
    } finally {
      await second.close();
    }
  });

  it('retries a failing job with a growing delay, then lists it as dead', async () => {
    const open = await durableDatabase();
    const handle = await open();
    const attempts: number[] = [];
    const queue = queueOn<{ what: string }>(handle, {
      name: 'test.failing',
      retryLimit: 2,
      retryDelay: 1,
      handler: async () => {
        attempts.push(Date.now());
        throw new Error('the remote server is down');
      },
    });
    try {
      await queue.start({ work: true });
      await queue.send('test.failing', { what: 'deliver' });
      await until(async () => (await queue.listDead('test.failing')).length > 0, 'the job to be dead-lettered', 90_000);
      const dead = await queue.listDead();
      expect(dead).toEqual([expect.objectContaining({ queue: 'test.failing', data: { what: 'deliver' } })]);
      // One attempt and two retries; the delay doubles (1-2 s, then 2-4 s).
      expect(attempts).toHaveLength(3);
      const [a, b, c] = attempts as [number, number, number];
      expect(b - a).toBeGreaterThanOrEqual(900);
      expect(c - b).toBeGreaterThanOrEqual(1900);
    } finally {
      await queue.stop();
      await handle.close();
    }
  });

  it('lets a running job finish when the queue stops', async () => {
    const open = await durableDatabase();
    const handle = await open();
    let started = false;
    let finished = false;
    const queue = queueOn<object>(handle, {
      name: 'test.slow',
      handler: async () => {
        started = true;
        await sleep(1500);
        finished = true;
      },
    });
    try {
      await queue.start({ work: true });
      const id = await queue.send('test.slow', {});
      await until(() => started, 'the job to start');
      await queue.stop();
      expect(finished).toBe(true);
      expect(await jobState(handle, id!)).toBe('completed');
    } finally {
      await queue.stop().catch(() => {});
      await handle.close();
    }
  });
});
