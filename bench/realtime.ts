// Live feed benchmark (npm run bench:realtime).
//
// One instance with 5,000 open WebSocket connections following a public discussion group (the
// live topic its open group and thread pages follow). A new post is written in the group through
// the real path (createLocalPost in a transaction: the live message leaves through pg_notify when
// it commits, the instance's LISTEN hands it to its hub, the hub writes it to every socket). Measured, over several publications: the time from the
// start of the publishing transaction until the first and the last of the 5,000 clients received
// it (target: last < 1 s), and the instance's memory per connection (RSS before and after opening
// them, divided by their number).
//
// Baseline, in the same run: a bare `ws` server (no framework, no database) in a process of its
// own, with the same 5,000 clients, broadcasting the very same message bytes: the limit for this
// machine and this client process. Printed with the ratio.
//
// The clients run in a child process (so the instance's memory and CPU are its own); times are
// wall-clock milliseconds (performance.timeOrigin + performance.now()) compared across processes
// of the same machine. Uses PostgreSQL when DATABASE_URL is set (a fresh database is created and
// dropped), else the embedded database. BENCH_CONNECTIONS=n and BENCH_ROUNDS=n change the sizes.

import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import { loadConfig } from '../server/config.ts';
import { liveTopic } from '../server/discussions/discussions.live.ts';
import { createGroup } from '../server/discussions/groups.service.ts';
import { createMember } from '../server/discussions/members.repository.ts';
import { joinGroupIn } from '../server/discussions/memberships.service.ts';
import { createLocalPost } from '../server/discussions/posts.service.ts';
import { startInstance } from '../server/instance.ts';
import { realtimeHub } from '../server/realtime/realtime.routes.ts';
import { benchEnvironment } from './bench-env.ts';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Upgrades in flight at once while opening (below the listen backlog of 511). */
const OPENING = 100;

const now = () => performance.timeOrigin + performance.now();
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (x: number) => `${x.toFixed(0)} ms`;

type ToChild = { type: 'open'; url: string; n: number } | { type: 'expect' } | { type: 'close' } | { type: 'exit' };
interface Received {
  type: 'received';
  first: number;
  last: number;
  count: number;
  payload: string;
}

// --- The clients (child process) -----------------------------------------------------------------
async function clientsChild(): Promise<void> {
  let sockets: WebSocket[] = [];
  let expected = 0;
  let count = 0;
  let first = 0;
  let last = 0;
  let payload = '';
  let timer: NodeJS.Timeout | undefined;
  const report = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    process.send?.({ type: 'received', first, last, count, payload } satisfies Received);
    expected = 0;
  };
  // Kept as small as possible: the time of arrival is what is measured.
  const onMessage = (data: WebSocket.RawData) => {
    if (expected === 0) return;
    const at = now();
    if (count === 0) {
      first = at;
      payload = String(data);
    }
    last = at;
    count++;
    if (count === expected) report();
  };
  const open = (url: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
      socket.on('message', onMessage);
    });
  process.on('message', async (m: ToChild) => {
    if (m.type === 'open') {
      const started = now();
      let next = 0;
      await Promise.all(
        Array.from({ length: OPENING }, async () => {
          while (next < m.n) {
            next++;
            sockets.push(await open(m.url));
          }
        }),
      );
      process.send?.({ type: 'opened', n: sockets.length, ms: now() - started });
    } else if (m.type === 'expect') {
      expected = sockets.length;
      count = 0;
      first = 0;
      last = 0;
      // Whatever arrived within 10 s is reported, so a lost message shows as a count below n.
      timer = setTimeout(report, 10_000);
      process.send?.({ type: 'expecting' });
    } else if (m.type === 'close') {
      await Promise.all(
        sockets.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.readyState === s.CLOSED) return resolve();
              s.once('close', () => resolve());
              s.close();
            }),
        ),
      );
      sockets = [];
      process.send?.({ type: 'closed' });
    } else if (m.type === 'exit') process.exit(0);
  });
  process.send?.({ type: 'ready' });
}

// --- The bare ws server (child process): the limit ---------------------------------------------
async function bareChild(): Promise<void> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1024 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  process.on('message', (m: { type: string; json?: string }) => {
    if (m.type === 'rss') process.send?.({ type: 'rss', rss: settledRss(), heap: process.memoryUsage().heapUsed });
    if (m.type === 'broadcast') {
      const started = now();
      const bytes = Buffer.from(m.json ?? '');
      for (const client of wss.clients) client.send(bytes, { binary: false });
      process.send?.({ type: 'broadcasted', started, loop: now() - started });
    }
    if (m.type === 'exit') wss.close(() => process.exit(0));
  });
  process.send?.({ type: 'ready', port: (wss.address() as { port: number }).port });
}

/** RSS after a collection when the process was started with --expose-gc (as the children are). */
function settledRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage.rss();
}

interface Child {
  send(m: object): void;
  next<T>(type: string): Promise<T>;
}

function spawn(role: string): Child {
  const child = fork(fileURLToPath(import.meta.url), [role], { stdio: 'inherit', execArgv: [...process.execArgv, '--expose-gc'] });
  const waiting = new Map<string, (m: unknown) => void>();
  const early = new Map<string, unknown>();
  child.on('message', (m: { type: string }) => {
    const resolve = waiting.get(m.type);
    if (resolve) {
      waiting.delete(m.type);
      resolve(m);
    } else early.set(m.type, m);
  });
  child.on('exit', (code) => {
    if (code) console.error(`${role} exited with ${code}`);
  });
  return {
    send: (m) => child.send(m),
    next: <T>(type: string) =>
      new Promise<T>((resolve) => {
        if (early.has(type)) {
          const m = early.get(type);
          early.delete(type);
          resolve(m as T);
        } else waiting.set(type, resolve as (m: unknown) => void);
      }),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const max = (xs: number[]) => Math.max(...xs);

async function main(): Promise<void> {
  const { env, port, drop } = await benchEnvironment();
  // The hub reads its cap from the environment when the app is built.
  process.env.REALTIME_MAX_CONNECTIONS = String(CONNECTIONS + 100);
  const config = loadConfig(env);
  const instance = await startInstance(config, { logger: pino({ level: 'silent' }) });
  const clients = spawn('--clients');
  const bare = spawn('--bare');
  try {
    await clients.next('ready');
    const barePort = (await bare.next<{ port: number }>('ready')).port;
    const { ctx } = instance;
    const hub = realtimeHub(ctx);
    if (!hub) throw new Error('the realtime hub is not registered');
    console.log(`Live feed benchmark — database: ${config.databaseUrl ? 'PostgreSQL' : 'embedded PGlite'}`);
    console.log(`${CONNECTIONS} WebSocket clients (one child process), ${ROUNDS} publications measured after one warm-up`);
    console.log(
      `load average at start: ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${os.availableParallelism()} cores\n`,
    );

    // A public group with one member who writes; the clients follow the group's live topic.
    const { group, member } = await ctx.db.transaction().execute(async (trx) => {
      const group = await createGroup(ctx, trx, { name: 'Groupe de travail RGPD', username: 'rgpd', visibility: 'public' });
      const member = await createMember(trx, {
        email: 'bench@example.org',
        displayName: 'Camille',
        instanceHandle: ctx.config.instanceHandle,
      });
      await joinGroupIn(ctx, trx, { member, groupId: group.id });
      return { group, member };
    });
    const topic = liveTopic({ kind: 'group', id: group.id });
    const publish = async (n: number) =>
      ctx.db.transaction().execute((trx) =>
        createLocalPost(ctx, trx, {
          member,
          groupId: group.id,
          title: `Registre des traitements, question n° ${n}`,
          markdown: 'Qui a déjà un **modèle de registre** à partager ? #rgpd',
        }),
      );
    // Warm the paths (queries prepared, code compiled) before measuring memory and time.
    await publish(0);

    // --- The instance --------------------------------------------------------------------------
    const rssBefore = settledRss();
    const heapBefore = process.memoryUsage().heapUsed;
    clients.send({ type: 'open', url: `ws://127.0.0.1:${port}/live?topics=${encodeURIComponent(topic)}`, n: CONNECTIONS });
    const opened = await clients.next<{ n: number; ms: number }>('opened');
    await new Promise((r) => setTimeout(r, 500));
    const rssAfter = settledRss();
    const heapAfter = process.memoryUsage().heapUsed;
    if (hub.size !== CONNECTIONS) throw new Error(`the hub holds ${hub.size} sockets, expected ${CONNECTIONS}`);
    console.log('This instance (a post in a public group: createLocalPost → pg_notify → LISTEN → hub → sockets)');
    console.log(`  ${opened.n} connections opened in   ${(opened.ms / 1000).toFixed(1)} s`);
    console.log(`  instance RSS                   ${mb(rssBefore)} → ${mb(rssAfter)}`);
    console.log(
      `  memory per connection          ${kb((rssAfter - rssBefore) / CONNECTIONS)} RSS (${kb((heapAfter - heapBefore) / CONNECTIONS)} of JS heap)`,
    );

    // The hub's own share: how long its synchronous loop takes to hand the message to every socket.
    const dispatchMs: number[] = [];
    const dispatch = hub.dispatch.bind(hub);
    hub.dispatch = (topic, json) => {
      const started = now();
      const sent = dispatch(topic, json);
      dispatchMs.push(now() - started);
      return sent;
    };
    let payload = '';
    const hubFirst: number[] = [];
    const hubLast: number[] = [];
    const hubCommit: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      clients.send({ type: 'expect' });
      await clients.next('expecting');
      const received = clients.next<Received>('received');
      const started = now();
      await publish(round);
      const committed = now();
      const r = await received;
      if (r.count !== CONNECTIONS) throw new Error(`round ${round}: ${r.count} of ${CONNECTIONS} clients received the message`);
      payload = r.payload;
      hubCommit.push(committed - started);
      hubFirst.push(r.first - started);
      hubLast.push(r.last - started);
      console.log(
        `  round ${round}: committed ${ms(committed - started)}, first client ${ms(r.first - started)}, last client ${ms(r.last - started)}`,
      );
    }
    console.log(
      `  median: first ${ms(median(hubFirst))}, last ${ms(median(hubLast))}; worst last ${ms(max(hubLast))} (message ${Buffer.byteLength(payload)} bytes)`,
    );
    console.log(`  hub's write loop over ${CONNECTIONS} sockets: median ${ms(median(dispatchMs.slice(-ROUNDS)))}`);

    // --- The baseline: a bare ws server, same clients, same bytes ------------------------------
    clients.send({ type: 'close' });
    await clients.next('closed');
    bare.send({ type: 'rss' });
    const bareBefore = await bare.next<{ rss: number; heap: number }>('rss');
    clients.send({ type: 'open', url: `ws://127.0.0.1:${barePort}/`, n: CONNECTIONS });
    const bareOpened = await clients.next<{ n: number; ms: number }>('opened');
    await new Promise((r) => setTimeout(r, 500));
    bare.send({ type: 'rss' });
    const bareAfter = await bare.next<{ rss: number; heap: number }>('rss');
    console.log('\nBaseline: bare ws server in its own process (no framework, no database), same clients and bytes');
    console.log(`  ${bareOpened.n} connections opened in   ${(bareOpened.ms / 1000).toFixed(1)} s`);
    const bareRss = (bareAfter.rss - bareBefore.rss) / CONNECTIONS;
    const bareHeap = (bareAfter.heap - bareBefore.heap) / CONNECTIONS;
    console.log(`  memory per connection          ${kb(bareRss)} RSS (${kb(bareHeap)} of JS heap)`);
    const bareFirst: number[] = [];
    const bareLast: number[] = [];
    const bareLoop: number[] = [];
    for (let round = 1; round <= ROUNDS + 1; round++) {
      clients.send({ type: 'expect' });
      await clients.next('expecting');
      const received = clients.next<Received>('received');
      bare.send({ type: 'broadcast', json: payload });
      const { started, loop } = await bare.next<{ started: number; loop: number }>('broadcasted');
      const r = await received;
      if (r.count !== CONNECTIONS) throw new Error(`baseline: ${r.count} of ${CONNECTIONS} clients received the message`);
      if (round === 1) continue; // warm-up, as for the instance
      bareFirst.push(r.first - started);
      bareLast.push(r.last - started);
      bareLoop.push(loop);
      console.log(`  round ${round - 1}: first client ${ms(r.first - started)}, last client ${ms(r.last - started)}`);
    }
    console.log(`  median: first ${ms(median(bareFirst))}, last ${ms(median(bareLast))}; worst last ${ms(max(bareLast))}`);
    console.log(`  bare server's write loop over ${CONNECTIONS} sockets: median ${ms(median(bareLoop))}`);

    const ratio = median(hubLast) / median(bareLast);
    console.log('\nSummary');
    console.log(`  last of ${CONNECTIONS} clients, median   ${ms(median(hubLast))} (instance) vs ${ms(median(bareLast))} (bare ws)`);
    console.log(`  ratio                          ${ratio.toFixed(2)}× the bare server's time (includes the commit and NOTIFY)`);
    console.log(
      `  write loops, median            ${ms(median(dispatchMs.slice(-ROUNDS)))} (hub) vs ${ms(median(bareLoop))} (bare ws): ${(median(dispatchMs.slice(-ROUNDS)) / median(bareLoop)).toFixed(2)}×`,
    );
    console.log(
      `  memory per connection          ${kb((rssAfter - rssBefore) / CONNECTIONS)} RSS, ${kb((heapAfter - heapBefore) / CONNECTIONS)} heap (instance) vs ${kb(bareRss)} RSS, ${kb(bareHeap)} heap (bare ws)`,
    );
    // On PGlite the notification reaches the hub during the commit (same thread), so the time the
    // transaction took to return includes the hub's writes; on PostgreSQL it does not.
    console.log(`  publishing transaction returned after ${ms(median(hubCommit))} (median)`);
    console.log(`  target: last client < 1 s: ${max(hubLast) < 1000 ? 'met' : 'NOT met'} (worst ${ms(max(hubLast))})`);
    clients.send({ type: 'close' });
    await clients.next('closed');
  } finally {
    clients.send({ type: 'exit' });
    bare.send({ type: 'exit' });
    await instance.stop();
    await drop();
    fs.rmSync(config.dataDir, { recursive: true, force: true });
    delete process.env.REALTIME_MAX_CONNECTIONS;
  }
}

const role = process.argv.includes('--clients') ? 'clients' : process.argv.includes('--bare') ? 'bare' : 'main';
const entry = role === 'clients' ? clientsChild() : role === 'bare' ? bareChild() : main();
entry.then(
  () => {
    if (role === 'main') process.exit(0);
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
