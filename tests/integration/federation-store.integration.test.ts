// The pieces Fedify runs on: its key-value store on our database, its message queue on pg-boss,
// and the outbound guard every remote fetch goes through.
import http from 'node:http';
import { Temporal } from '@js-temporal/polyfill';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseKvStore } from '../../server/federation/fedify-kv.repository.ts';
import { PgBossMessageQueue } from '../../server/federation/fedify-queue.ts';
import { GuardError, isPrivateAddress, OutboundGuard } from '../../server/federation/guard.ts';
import { JobQueue } from '../../server/jobs/queue.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { waitFor } from '../helpers/federation.ts';

type Duration = NonNullable<Parameters<DatabaseKvStore['set']>[2]>['ttl'];
const ms = (milliseconds: number) => Temporal.Duration.from({ milliseconds }) as unknown as Duration;

describe('Fedify key-value store on the database', () => {
  let db: TestDatabase;
  let kv: DatabaseKvStore;
  beforeAll(async () => {
    db = await createTestDatabase();
    kv = new DatabaseKvStore(db.db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('gets, sets, deletes and lists by prefix', async () => {
    expect(await kv.get(['a', 'missing'])).toBeUndefined();
    await kv.set(['a', 'x'], { n: 1 });
    await kv.set(['a', 'y'], [1, 2]);
    await kv.set(['ab', 'z'], 'other prefix');
    expect(await kv.get(['a', 'x'])).toEqual({ n: 1 });
    await kv.set(['a', 'x'], { n: 2 });
    expect(await kv.get(['a', 'x'])).toEqual({ n: 2 });
    const listed = [];
    for await (const entry of kv.list(['a'])) listed.push(entry);
    expect(listed).toEqual([
      { key: ['a', 'x'], value: { n: 2 } },
      { key: ['a', 'y'], value: [1, 2] },
    ]);
    await kv.delete(['a', 'x']);
    expect(await kv.get(['a', 'x'])).toBeUndefined();
  });

  it('ignores expired entries and purges them', async () => {
    await kv.set(['ttl', 'short'], 'soon gone', { ttl: ms(1500) });
    await kv.set(['ttl', 'long'], 'stays', { ttl: ms(60_000) });
    expect(await kv.get(['ttl', 'short'])).toBe('soon gone');
    await waitFor(async () => (await kv.get(['ttl', 'short'])) === undefined, { what: 'expiry' });
    expect(await kv.get(['ttl', 'long'])).toBe('stays');
    expect(await kv.purgeExpired()).toBeGreaterThanOrEqual(1);
  });

  it('compares and swaps', async () => {
    expect(await kv.cas(['cas'], undefined, 1)).toBe(true);
    expect(await kv.cas(['cas'], undefined, 2)).toBe(false);
    expect(await kv.cas(['cas'], 2, 3)).toBe(false);
    expect(await kv.cas(['cas'], 1, 3)).toBe(true);
    expect(await kv.get(['cas'])).toBe(3);
  });
});

describe('Fedify message queue on pg-boss', () => {
  let db: TestDatabase;
  let queue: JobQueue;
  let mq: PgBossMessageQueue;
  const received: Array<{ message: unknown; at: number }> = [];
  const stop = new AbortController();

  beforeAll(async () => {
    db = await createTestDatabase();
    const log = pino({ level: 'silent' });
    queue = new JobQueue(db, log);
    mq = new PgBossMessageQueue(queue, log);
    await queue.start({ work: true });
    void mq.listen(async (message) => void received.push({ message, at: Date.now() }), { signal: stop.signal });
  });
  afterAll(async () => {
    stop.abort();
    await queue?.stop(2000);
    await db?.close();
  });

  it('hands enqueued messages to the listener, after their delay', async () => {
    const sent = Date.now();
    await mq.enqueue({ type: 'now' });
    await mq.enqueueMany([{ type: 'many-1' }, { type: 'many-2' }]);
    await mq.enqueue({ type: 'later' }, { delay: ms(1500) as never });
    await waitFor(() => received.length >= 4, { what: 'four messages' });
    const later = received.find((r) => (r.message as { type: string }).type === 'later')!;
    expect(later.at - sent).toBeGreaterThanOrEqual(1400);
    expect(received.map((r) => (r.message as { type: string }).type).sort()).toEqual(['later', 'many-1', 'many-2', 'now']);
  });
});

describe('outbound guard', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
      if (req.url === '/big') return void res.end('x'.repeat(200_000));
      res.writeHead(200, { 'content-type': 'application/activity+json' }).end('{"id":"ok"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('recognises private, loopback and link-local addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '192.168.0.1',
      '172.16.5.4',
      '169.254.169.254',
      '100.64.0.1',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '0.0.0.0',
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['93.184.216.34', '2606:4700::1111', '8.8.8.8']) expect(isPrivateAddress(a), a).toBe(false);
  });

  it('refuses private addresses, by IP or by a name that resolves to one, unless allowed', async () => {
    const guard = new OutboundGuard({ allowPrivate: false });
    try {
      await expect(guard.fetch(`${base}/`)).rejects.toMatchObject({ kind: 'refused' });
      await expect(guard.fetch(`http://localhost:${new URL(base).port}/`)).rejects.toMatchObject({ kind: 'refused' });
      await expect(guard.fetch('file:///etc/passwd')).rejects.toMatchObject({ kind: 'bad_url' });
    } finally {
      guard.close();
    }
    const allowed = new OutboundGuard({ allowPrivate: true });
    try {
      expect((await allowed.documentLoader(`${base}/doc`)).document).toEqual({ id: 'ok' });
    } finally {
      allowed.close();
    }
  });

  it('gives up on slow servers and oversized answers', async () => {
    const guard = new OutboundGuard({ allowPrivate: true, timeoutMs: 300, maxBytes: 100_000 });
    try {
      const started = Date.now();
      await expect(guard.fetch(`${base}/slow`)).rejects.toBeInstanceOf(GuardError);
      expect(Date.now() - started).toBeLessThan(1500);
      await expect(guard.fetch(`${base}/big`)).rejects.toMatchObject({ kind: 'too_large' });
    } finally {
      guard.close();
    }
  });
});
