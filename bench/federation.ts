// Federation benchmark (npm run bench:federation).
//
// Outbound: one announcement to 2,000 followers on 200 receiving hosts (127.0.0.1, one port
// each), half of the hosts offering a shared inbox (so 100 + 1,000 = 1,100 POSTs), each answering
// after 50 ms. Measured: deliveries per second, time until the last one, peak memory; then the
// same deliveries one request at a time (the model of activitypub-express and WriteFreely), in
// the same run, and the ratio.
//
// Inbound: 1,000 signed Create(Article) activities from a followed network, signed beforehand and
// posted 32 at a time from the receivers' child process: the rate at which they are verified and
// stored and the instance's CPU time per activity, beside the machine's raw RSA signature
// verification rate (the ceiling for any ActivityPub server).
//
// Uses PostgreSQL when DATABASE_URL is set (a fresh database is created and dropped), else the
// embedded database. BENCH_INBOUND=n changes the number of incoming activities; BENCH_ONLY_QUEUE=1
// stops after the queued fan-out; BENCH_SKIP_SEQUENTIAL=1 leaves out the one-at-a-time baseline;
// BENCH_ONLY_INBOUND=1 measures the inbound part alone; BENCH_COUNT_SQL=1 counts the SQL
// statements sent during the inbound part (PostgreSQL only: the `pg` client is instrumented);
// BENCH_PGDATA=<data directory of the PostgreSQL server> also prints the server's CPU time per
// incoming activity (Linux; use a server of its own, or other clients' work is counted too);
// BENCH_MARKS=1 prints the inbound phase's start and end on the clock of `node --cpu-prof`;
// BENCH_WORKER=1 (PostgreSQL) runs the queues in a second process (PROCESS_ROLE web + worker).

import { fork } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { createAnnouncement } from '../server/announcements/announcements.service.ts';
import { loadConfig } from '../server/config.ts';
import { federationOf } from '../server/federation/federation.module.ts';
import { insertFollow, setFollowStatus } from '../server/federation/federation.repository.ts';
import { startInstance } from '../server/instance.ts';
import { startFakeServer } from '../tests/helpers/federation.ts';
import { tempDir } from '../tests/helpers/instance.ts';
import { benchEnvironment } from './bench-env.ts';

const HOSTS = 200;
const FOLLOWERS = 2000;
const DELAY_MS = 50;
const INBOUND = Number(process.env.BENCH_INBOUND ?? 1000);

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

function sampleMemory(): { stop: () => number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

interface Follower {
  actor: string;
  inbox: string;
  shared: string | null;
  host: string;
}

// The receiving servers run in a child process, so that their work does not slow the instance
// being measured (and the memory figure is the instance's alone).
async function receiversChild(): Promise<void> {
  let count = 0;
  let target = Number.POSITIVE_INFINITY;
  const followers: Follower[] = [];
  const perHost = FOLLOWERS / HOSTS;
  for (let h = 0; h < HOSTS; h++) {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          res.writeHead(202).end();
          count++;
          if (count === target) process.send?.({ type: 'reached', at: performance.timeOrigin + performance.now() });
        }, DELAY_MS),
      );
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    for (let i = 0; i < perHost; i++) {
      const actor = `${base}/users/${i}`;
      followers.push({ actor, inbox: `${actor}/inbox`, shared: h < HOSTS / 2 ? `${base}/inbox` : null, host: new URL(base).host });
    }
  }
  process.on('message', (m: { type: string; n?: number; inbox?: string; items?: Prepared[] }) => {
    if (m.type === 'expect') {
      count = 0;
      target = m.n ?? 0;
    }
    if (m.type === 'post') void postAll(m.inbox ?? '', m.items ?? []).then((r) => process.send?.({ type: 'posted', ...r }));
    if (m.type === 'exit') process.exit(0);
  });
  process.send?.({ type: 'ready', followers });
}

interface Prepared {
  headers: Record<string, string>;
  body: string;
}

// The remote servers sending to the instance: signed activities posted SENDERS at a time, from
// this child process (as the receivers), so that the instance's process does only the
// instance's work.
const SENDERS = 32;

async function postAll(inbox: string, items: Prepared[]): Promise<{ refused: number; at: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: SENDERS });
  let next = 0;
  let refused = 0;
  const post = (item: Prepared) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(inbox, { method: 'POST', headers: item.headers, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(item.body);
    });
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      while (next < items.length) {
        const item = items[next++] as Prepared;
        if ((await post(item)) !== 202) refused++;
      }
    }),
  );
  agent.destroy();
  return { refused, at: performance.timeOrigin + performance.now() };
}

interface Receivers {
  followers: Follower[];
  inboxes: string[];
  /** Resets the count; resolves with the time (ms since epoch) the n-th POST was answered. */
  expect: (n: number) => Promise<number>;
  /** Posts the signed activities to `inbox`; resolves when all were answered. */
  post: (inbox: string, items: Prepared[]) => Promise<{ refused: number; at: number }>;
  close: () => void;
}

async function startReceivers(): Promise<Receivers> {
  const child = fork(fileURLToPath(import.meta.url), ['--receivers'], { stdio: 'inherit' });
  const followers = await new Promise<Follower[]>((resolve, reject) => {
    child.once('message', (m: { type: string; followers: Follower[] }) => resolve(m.followers));
    child.once('error', reject);
  });
  const inboxes = [...new Set(followers.map((f) => f.shared ?? f.inbox))];
  return {
    followers,
    inboxes,
    expect: (n) =>
      new Promise<number>((resolve) => {
        const onMessage = (m: { type: string; at: number }) => {
          if (m.type !== 'reached') return;
          child.off('message', onMessage);
          resolve(m.at);
        };
        child.on('message', onMessage);
        child.send({ type: 'expect', n });
      }),
    post: (inbox, items) =>
      new Promise((resolve) => {
        const onMessage = (m: { type: string; refused: number; at: number }) => {
          if (m.type !== 'posted') return;
          child.off('message', onMessage);
          resolve(m);
        };
        child.on('message', onMessage);
        child.send({ type: 'post', inbox, items });
      }),
    close: () => {
      child.send({ type: 'exit' });
    },
  };
}

// Every statement sent through `pg` (our pool and pg-boss's), by its first words.
const sqlCounts = new Map<string, number>();
let countingSql = false;
if (process.env.BENCH_COUNT_SQL) {
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (countingSql) {
      const first = args[0] as string | { text?: string };
      const text = (typeof first === 'string' ? first : (first?.text ?? '')).replace(/\s+/g, ' ').trim().slice(0, 90);
      sqlCounts.set(text, (sqlCounts.get(text) ?? 0) + 1);
    }
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query;
}

// CPU time (ms) used so far by a PostgreSQL server: the postmaster, its finished children (which
// it has reaped) and its live ones, from /proc (Linux). Undefined when BENCH_PGDATA is not set.
function postgresCpuMs(): number | undefined {
  const dir = process.env.BENCH_PGDATA;
  if (!dir) return undefined;
  const postmaster = fs.readFileSync(`${dir}/postmaster.pid`, 'utf8').split('\n')[0]?.trim() ?? '';
  const ticks = (pid: string, withChildren: boolean): { ticks: number; ppid: string } => {
    // Fields after the command name (which may hold spaces): state, ppid, ..., utime (14), stime,
    // cutime, cstime.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const n = (i: number) => Number(f[i - 3]);
    return { ticks: n(14) + n(15) + (withChildren ? n(16) + n(17) : 0), ppid: f[1] ?? '' };
  };
  let total = ticks(postmaster, true).ticks;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const t = ticks(pid, false);
      if (t.ppid === postmaster) total += t.ticks;
    } catch {
      // gone meanwhile
    }
  }
  return (total * 1000) / 100; // USER_HZ is 100 on Linux
}

function verificationRate(): number {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = Buffer.from('(request-target): post /inbox\nhost: example.org\ndate: Sat, 28 Nov 2026 12:00:00 GMT\ndigest: SHA-256=abc');
  const signature = crypto.sign('sha256', data, privateKey);
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < 1500) {
    crypto.verify('sha256', data, publicKey, signature);
    n++;
  }
  return n / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const { env, drop } = await benchEnvironment({ FEDERATION_ALLOW_PRIVATE: 'true' });
  // BENCH_WORKER=1 (PostgreSQL): the instance answers HTTP only (PROCESS_ROLE=web) and a second
  // process works the queues (PROCESS_ROLE=worker), as a deployment on two cores would.
  const split = Boolean(process.env.BENCH_WORKER && env.DATABASE_URL);
  const config = loadConfig(split ? { ...env, PROCESS_ROLE: 'web' } : env);
  const instance = await startInstance(config, { logger: pino({ level: 'silent' }) });
  const worker = split ? await startWorker({ ...env, PROCESS_ROLE: 'worker', DATA_DIR: tempDir('amap-bench-worker-') }) : undefined;
  const receivers = await startReceivers();
  const fake = await startFakeServer('emetteur');
  try {
    const { ctx } = instance;
    const fed = federationOf(ctx);
    if (!fed) throw new Error('federation is not registered');
    await fed.rt.keys();
    console.log(`Federation benchmark — database: ${config.databaseUrl ? 'PostgreSQL' : 'embedded PGlite'}`);
    console.log(
      `${FOLLOWERS} followers on ${HOSTS} hosts (half with a shared inbox) → ${receivers.inboxes.length} inboxes, each answering after ${DELAY_MS} ms\n`,
    );

    for (let i = 0; i < receivers.followers.length; i += 500) {
      await ctx.db
        .insertInto('federation_followers')
        .values(
          receivers.followers.slice(i, i + 500).map((f, j) => ({
            actor_id: f.actor,
            inbox: f.inbox,
            shared_inbox: f.shared,
            host: f.host,
            follow_activity_id: `${f.actor}/follow/${i + j}`,
            status: 'accepted' as const,
          })),
        )
        .execute();
    }

    if (!process.env.BENCH_ONLY_INBOUND) {
      // --- Outbound, through the queue ---------------------------------------------------------
      const reached = receivers.expect(receivers.inboxes.length);
      await new Promise((r) => setTimeout(r, 100)); // let the child take the message
      const memory = sampleMemory();
      const cpu = process.cpuUsage();
      const started = Date.now();
      const row = await ctx.db.transaction().execute((trx) =>
        createAnnouncement(trx, { config: ctx.config, events: ctx.events }, null, {
          title: 'Assemblée générale du réseau',
          body: 'Tous les adhérents sont invités.',
          status: 'published',
        }),
      );
      const committed = Date.now();
      const last = await reached;
      const peak = memory.stop();
      const used = process.cpuUsage(cpu);
      const queued = (last - started) / 1000;
      const queuedRate = receivers.inboxes.length / queued;
      console.log('Outbound, durable queue (this implementation)');
      console.log(`  local action committed in   ${(committed - started).toFixed(0)} ms`);
      console.log(`  last inbox reached after    ${queued.toFixed(2)} s`);
      console.log(`  deliveries per second       ${queuedRate.toFixed(0)}`);
      console.log(`  peak memory (rss)           ${mb(peak)}`);
      console.log(
        `  CPU time of the instance    ${((used.user + used.system) / 1000).toFixed(0)} ms (${((used.user + used.system) / 1000 / receivers.inboxes.length).toFixed(1)} ms per delivery; user ${(used.user / 1000).toFixed(0)} ms, system ${(used.system / 1000).toFixed(0)} ms)`,
      );

      if (process.env.BENCH_ONLY_QUEUE) return;
      // BENCH_SKIP_SEQUENTIAL=1 leaves out the minute-long baseline (to profile the inbound part).
      if (!process.env.BENCH_SKIP_SEQUENTIAL) {
        // --- Outbound, one request at a time ------------------------------------------------------
        const seqReached = receivers.expect(receivers.inboxes.length);
        await new Promise((r) => setTimeout(r, 100));
        const activity = {
          '@context': 'https://www.w3.org/ns/activitystreams',
          id: `${row.ap_id}#baseline`,
          type: 'Create',
          actor: fed.rt.urls.actor.href,
          object: row.ap_id,
        };
        const seqStarted = Date.now();
        for (const inbox of receivers.inboxes) {
          await fed.delivery.deliver({ inbox, activityId: String(activity.id), activity });
        }
        const sequential = ((await seqReached) - seqStarted) / 1000;
        console.log('\nOutbound, one request at a time (activitypub-express / WriteFreely model)');
        console.log(`  last inbox reached after    ${sequential.toFixed(2)} s`);
        console.log(`  deliveries per second       ${(receivers.inboxes.length / sequential).toFixed(0)}`);
        console.log(`  ratio                       ${(sequential / queued).toFixed(1)}× faster through the queue`);
        console.log(
          `  targets: every inbox within 3 s: ${queued <= 3 ? 'met' : 'NOT met'}; ≥ 20× faster: ${sequential / queued >= 20 ? 'met' : 'NOT met'}`,
        );
      }
    }

    // --- Inbound ---------------------------------------------------------------------------
    const info = {
      id: fake.actorId,
      handle: `emetteur@${new URL(fake.url).host}`,
      name: 'Émetteur',
      url: null,
      inbox: `${fake.url}/actor/inbox`,
      sharedInbox: `${fake.url}/inbox`,
    };
    await insertFollow(ctx.db, info, `${fake.url}/follow`);
    await setFollowStatus(ctx.db, fake.actorId, 'accepted');
    const inbox = `${instance.url}/inbox`;
    // Warm the key cache (the first activity fetches the sender's key).
    const warm = (n: number) => ({
      '@context': 'https://www.w3.org/ns/activitystreams',
      id: `${fake.url}/activities/${n}`,
      type: 'Create',
      actor: fake.actorId,
      to: 'https://www.w3.org/ns/activitystreams#Public',
      object: {
        id: `${fake.url}/articles/${n}`,
        type: 'Article',
        attributedTo: fake.actorId,
        name: `Annonce ${n}`,
        summary: 'Résumé',
        content: `<p>Contenu ${n}</p>`,
        published: new Date().toISOString(),
      },
    });
    const first = await fake.prepare(inbox, warm(0));
    await fetch(inbox, { method: 'POST', headers: first.headers, body: first.body });
    const remoteCount = async () =>
      Number(
        (
          await ctx.db
            .selectFrom('announcements')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('origin', '=', 'remote')
            .executeTakeFirstOrThrow()
        ).n,
      );
    // A benchmark that waits for ever says nothing: after two minutes it stops and says what is missing.
    const waitStored = async (count: number, pause: number) => {
      const deadline = Date.now() + 120_000;
      for (let n = await remoteCount(); n < count; n = await remoteCount()) {
        if (Date.now() > deadline) throw new Error(`inbound: ${n} of ${count} announcements stored after two minutes`);
        await new Promise((r) => setTimeout(r, pause));
      }
    };
    await waitStored(1, 50);
    const prepared: Prepared[] = [];
    for (let n = 1; n <= INBOUND; n++) {
      const p = await fake.prepare(inbox, warm(n));
      prepared.push({ headers: Object.fromEntries(p.headers), body: p.body });
    }
    countingSql = true;
    // With BENCH_MARKS=1, the monotonic clock (µs, as in a --cpu-prof profile) at the start and end.
    const mark = (what: string) => process.env.BENCH_MARKS && console.log(`  mark ${what} ${process.hrtime.bigint() / 1000n}`);
    mark('inbound-start');
    const inCpu = process.cpuUsage();
    const workerCpu = await worker?.cpu();
    const pgCpu = postgresCpuMs();
    const inStarted = performance.now();
    const inStartedAt = performance.timeOrigin + inStarted;
    const { refused, at } = await receivers.post(inbox, prepared);
    const accepted = (at - inStartedAt) / 1000;
    await waitStored(INBOUND + 1, 20);
    const stored = (performance.now() - inStarted) / 1000;
    const inUsed = process.cpuUsage(inCpu);
    const workerUsed = worker && workerCpu !== undefined ? (await worker.cpu()) - workerCpu : undefined;
    const pgUsed = pgCpu === undefined ? undefined : (postgresCpuMs() ?? 0) - pgCpu;
    countingSql = false;
    mark('inbound-end');
    const rate = verificationRate();
    console.log(`\nInbound: ${INBOUND} signed Create(Article), ${SENDERS} at a time from another process`);
    console.log(
      `  all answered 202 after      ${accepted.toFixed(2)} s (${(INBOUND / accepted).toFixed(0)}/s)${refused ? `, ${refused} refused` : ''}`,
    );
    console.log(`  all stored after            ${stored.toFixed(2)} s`);
    console.log(`  verified and stored         ${(INBOUND / stored).toFixed(0)} activities/s`);
    console.log(
      `  CPU time of the instance    ${((inUsed.user + inUsed.system) / 1000 / INBOUND).toFixed(2)} ms per activity (user ${(inUsed.user / 1000).toFixed(0)} ms, system ${(inUsed.system / 1000).toFixed(0)} ms)`,
    );
    if (workerUsed !== undefined)
      console.log(`  CPU time of the worker      ${(workerUsed / INBOUND).toFixed(2)} ms per activity (a process of its own)`);
    if (pgUsed !== undefined) console.log(`  CPU time of PostgreSQL      ${(pgUsed / INBOUND).toFixed(2)} ms per activity`);
    console.log(`  raw RSA-2048 verifications  ${rate.toFixed(0)}/s on this machine, one core (the ceiling)`);
    if (sqlCounts.size > 0) {
      const total = [...sqlCounts.values()].reduce((a, b) => a + b, 0);
      console.log(`  SQL statements per activity ${(total / INBOUND).toFixed(2)} (the benchmark's own polling included)`);
      for (const [text, n] of [...sqlCounts].sort((a, b) => b[1] - a[1])) {
        console.log(`    ${(n / INBOUND).toFixed(2).padStart(6)}  ${text}`);
      }
    }
  } finally {
    receivers.close();
    await fake.close();
    await worker?.stop();
    await instance.stop();
    await drop();
    fs.rmSync(config.dataDir, { recursive: true, force: true });
  }
}

interface Worker {
  /** CPU time (ms) the worker process has used so far. */
  cpu: () => Promise<number>;
  stop: () => Promise<void>;
}

async function startWorker(env: Record<string, string>): Promise<Worker> {
  const child = fork(fileURLToPath(import.meta.url), ['--worker'], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_ENV: JSON.stringify(env) },
  });
  const ask = <T>(type: string, reply: string) =>
    new Promise<T>((resolve) => {
      const onMessage = (m: { type: string; value: T }) => {
        if (m.type !== reply) return;
        child.off('message', onMessage);
        resolve(m.value);
      };
      child.on('message', onMessage);
      child.send({ type });
    });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('error', reject);
  });
  return { cpu: () => ask<number>('cpu', 'cpu'), stop: () => ask<void>('stop', 'stopped') };
}

async function workerChild(): Promise<void> {
  const env = JSON.parse(process.env.BENCH_ENV ?? '{}') as Record<string, string>;
  const config = loadConfig(env);
  const instance = await startInstance(config, { logger: pino({ level: 'silent' }) });
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'cpu') {
      const used = process.cpuUsage();
      process.send?.({ type: 'cpu', value: (used.user + used.system) / 1000 });
    }
    if (m.type === 'stop') {
      await instance.stop();
      fs.rmSync(config.dataDir, { recursive: true, force: true });
      process.send?.({ type: 'stopped' }, () => process.exit(0));
    }
  });
  process.send?.({ type: 'ready' });
}

const child = process.argv.includes('--receivers') || process.argv.includes('--worker');
const entry = process.argv.includes('--receivers') ? receiversChild() : process.argv.includes('--worker') ? workerChild() : main();
entry.then(
  () => {
    if (!child) process.exit(0);
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
