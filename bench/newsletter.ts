// Benchmark: one issue to N subscribers (default 50,000) handed to a local SMTP server, against
// (1) a bare SMTP client sending the same bytes to the same server (the limit), and (2) the same
// issue compiled with MJML once per subscriber (measured on a sample, extrapolated). Then a CSV
// import of 50,000 rows. Prints rates, ratios and peak memory (RSS).
// Each measured part runs in a process of its own, as on a real instance: the SMTP server, the
// bare client (the limit) and the sender (a fresh process that opens the already seeded database,
// like a worker would, and sends the issue; its peak RSS is the figure reported). Seeding, the
// MJML sample and the CSV import run in this parent process.
//   npm run bench:newsletter            (embedded database)
//   DATABASE_URL=postgres://... npm run bench:newsletter
//   BENCH_SUBSCRIBERS=10000 npm run bench:newsletter
//   BENCH_ONLY_IMPORT=1 npm run bench:newsletter   (seeds, reopens the instance, runs only the CSV import)
//   BENCH_SMTP=node npm run bench:newsletter   (the SMTP server: `smtp-sink`, Postfix's test server
//     written for benchmarks, when /usr/sbin/smtp-sink exists — `apt-get install postfix` — else
//     the `smtp-server` package in a Node process of its own)
// The sending process runs with the Node flags of `npm start` (package.json), so that its memory
// is that of a real instance; BENCH_NODE_FLAGS="--flag ..." replaces them for an experiment.
import { fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { loadConfig } from '../server/config.ts';
import type { AppContext } from '../server/core/context.ts';
import { startInstance } from '../server/instance.ts';
import { saveSenderSettings } from '../server/mail/mail.settings.ts';
import { asSmtpReady, unstuffSmtp } from '../server/mail/mime.ts';
import { createSmtpTransport } from '../server/mail/transports.ts';
import { loadBranding } from '../server/newsletters/branding.settings.ts';
import { announcementsByIds } from '../server/newsletters/content.repository.ts';
import { buildMessage } from '../server/newsletters/newsletters.compose.ts';
import { compileIssue } from '../server/newsletters/newsletters.render.ts';
import { findIssue } from '../server/newsletters/newsletters.repository.ts';
import { runSendSlice } from '../server/newsletters/newsletters.sender.ts';
import { compileFor, createIssue, startSending } from '../server/newsletters/newsletters.service.ts';
import { importSubscribers } from '../server/subscribers/subscribers.import.ts';
import { seedAnnouncement, seedSubscribers } from '../tests/helpers/newsletter-fixtures.ts';
import { startSmtpSink } from '../tests/helpers/smtp.ts';

const N = Number(process.env.BENCH_SUBSCRIBERS ?? 50_000);
const SAMPLE = Number(process.env.BENCH_MJML_SAMPLE ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);
const IMPORT_ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 50_000);

const SMTP_SINK = '/usr/sbin/smtp-sink';
const SMTP = (process.env.BENCH_SMTP ?? (fs.existsSync(SMTP_SINK) ? 'smtp-sink' : 'node')) as 'smtp-sink' | 'node';
if (SMTP !== 'smtp-sink' && SMTP !== 'node') throw new Error('BENCH_SMTP must be smtp-sink or node');

/** The V8 flags of `npm start` (the tokens starting with -- before the script), or BENCH_NODE_FLAGS. */
function instanceNodeFlags(): string[] {
  if (process.env.BENCH_NODE_FLAGS !== undefined) return process.env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean);
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  return pkg.scripts.start!.split(/\s+/).filter((w) => w.startsWith('--'));
}
const SEND_FLAGS = instanceNodeFlags();

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const self = fileURLToPath(import.meta.url);

interface SendReport {
  seconds: number;
  /** CPU time (user + system) of the process during the send, in seconds. */
  cpuSeconds: number;
  /** Of which: taking the audience (creating one delivery row per subscriber). */
  audienceSeconds: number;
  /** CPU time of taking the audience, in seconds. */
  audienceCpuSeconds: number;
  /** The editor's preview before the send, in the same process (not counted in the send). */
  previewSeconds: number;
  rssAtStart: number;
  rssBeforeSend: number;
  peakRss: number;
  maxRss: number;
  heapPeak: number;
  /** process.memoryUsage() when RSS peaked. */
  atPeak: { heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
}

/** Runs `--role` in a child process and returns the one message it sends back. */
function child<T>(role: string, args: unknown, flags: string[] = []): Promise<T> {
  // BENCH_CPU_PROF=<dir> writes a CPU profile of each measured child (node --cpu-prof).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const p = fork(self, [role, JSON.stringify(args)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, ...flags, ...prof],
  });
  return new Promise<T>((resolve, reject) => {
    p.once('message', (m) => resolve(m as T));
    p.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

function benchConfig(dataDir: string, smtpUrl: string) {
  return loadConfig({
    PORT: '0',
    DATA_DIR: dataDir,
    SMTP_URL: smtpUrl,
    PUBLIC_URL: 'https://amap-bench.example.org',
    INSTANCE_NAME: 'Réseau AMAP Bench',
    PROCESS_ROLE: 'web', // no background worker: the benchmark drives the sender itself
    LOG_LEVEL: 'silent',
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    ...(process.env.PGLITE_SHARED_BUFFERS ? { PGLITE_SHARED_BUFFERS: process.env.PGLITE_SHARED_BUFFERS } : {}),
  });
}

// The limit: a bare SMTP client sending the bytes of one finished message, with the same
// transport as the send (server/mail/transports.ts: the bulk pool of nodemailer connections for
// bytes already in their SMTP form), the same connection count and messages per connection.
// `--stock`: nodemailer's stock pooled transport with the same message (the limit before the bulk
// pool), for reference only.
if (process.argv[2] === '--bare' || process.argv[2] === '--stock') {
  const a = JSON.parse(process.argv[3]!) as { port: number; rawFile: string; count: number; concurrency: number };
  const raw = asSmtpReady(fs.readFileSync(a.rawFile));
  let send: (i: number) => Promise<unknown>;
  let close: () => Promise<void>;
  if (process.argv[2] === '--bare') {
    const transport = createSmtpTransport({
      smtpUrl: `smtp://127.0.0.1:${a.port}`,
      outboxDir: '/nonexistent',
      concurrency: a.concurrency,
      dkim: null,
    });
    const base = { from: 'no-reply@amap-bench.example.org', to: '', subject: '', html: '', text: '', messageId: '' };
    send = (i) => transport.send({ ...base, prebuilt: { raw, envelopeFrom: base.from, envelopeTo: `bare${i}@example.org` } });
    close = () => transport.close();
  } else {
    const plain = unstuffSmtp(raw);
    const stock = nodemailer.createTransport({
      pool: true,
      host: '127.0.0.1',
      port: a.port,
      maxConnections: a.concurrency,
      maxMessages: 1000,
      secure: false,
    });
    send = (i) => stock.sendMail({ envelope: { from: 'no-reply@amap-bench.example.org', to: [`bare${i}@example.org`] }, raw: plain });
    close = async () => stock.close();
  }
  let next = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: a.concurrency }, async () => {
      while (next < a.count) await send(next++);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  await close();
  process.send?.({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  process.exit(0);
}

// The sender, as a worker process would run it: open the seeded database, send the issue.
if (process.argv[2] === '--send') {
  const a = JSON.parse(process.argv[3]!) as { dataDir: string; smtpUrl: string; issueId: string };
  let peakRss = 0;
  let heapPeak = 0;
  let atPeak = process.memoryUsage();
  // process.memoryUsage() reads /proc and walks the heap: 1.5 % of the send's CPU at every 20 ms.
  // The RSS alone is cheap; the breakdown is taken when the RSS reaches a new peak, and every 200 ms.
  let ticks = 0;
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss <= peakRss && ticks++ % 10 !== 0) return;
    const m = process.memoryUsage();
    if (m.rss > peakRss) atPeak = m;
    peakRss = Math.max(peakRss, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
  };
  const sampler = setInterval(sample, 20);
  const rssAtStart = process.memoryUsage().rss;
  const inst = await startInstance(benchConfig(a.dataDir, a.smtpUrl), { logger: pino({ level: 'silent' }) });
  // The editor previews an issue before sending it: in the process that runs everything (the
  // embedded default) MJML is then loaded and this issue compiled before the send begins. Its time
  // is printed, not counted in the send; its memory stays in the process and is counted.
  const p0 = performance.now();
  await compileFor(inst.ctx, (await findIssue(inst.ctx.db, a.issueId))!);
  const previewSeconds = (performance.now() - p0) / 1000;
  const rssBeforeSend = process.memoryUsage().rss;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await startSending(inst.ctx, a.issueId, { confirmOversize: true });
  const audienceSeconds = (performance.now() - t0) / 1000;
  const audienceCpu = process.cpuUsage(c0);
  while (!(await runSendSlice(inst.ctx, a.issueId, 60_000))) {
    /* the slice re-enqueued itself (no worker here); keep going */
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  sample();
  clearInterval(sampler);
  await inst.stop();
  const report: SendReport = {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    audienceSeconds,
    audienceCpuSeconds: (audienceCpu.user + audienceCpu.system) / 1e6,
    previewSeconds,
    rssAtStart,
    rssBeforeSend,
    peakRss,
    maxRss: process.resourceUsage().maxRSS * 1024,
    heapPeak,
    atPeak: { heapTotal: atPeak.heapTotal, heapUsed: atPeak.heapUsed, external: atPeak.external, arrayBuffers: atPeak.arrayBuffers },
  };
  process.send?.(report);
  process.exit(0);
}

// The node SMTP server (BENCH_SMTP=node), in a process of its own.
if (process.argv.includes('--sink')) {
  const child = await startSmtpSink({ countOnly: true });
  process.send?.({ port: child.port });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'count') process.send?.({ count: child.count });
    if (m.type === 'stop') void child.close().then(() => process.exit(0));
  });
  await new Promise(() => {});
}

interface Sink {
  port: number;
  url: string;
  count(): Promise<number>;
  close(): Promise<void>;
}

/** A free port on 127.0.0.1 (smtp-sink takes a port number, not 0). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Postfix's smtp-sink on 127.0.0.1 only: accepts and discards; -c prints "mesg=N" after each one. */
async function startPostfixSink(): Promise<Sink> {
  const port = await freePort();
  // As root it must be told which user to become; it never needs any privilege here.
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const p = spawn(SMTP_SINK, [...user, '-c', '-4', '-m', '256', `127.0.0.1:${port}`, '256'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let count = 0;
  let tail = '';
  p.stdout.setEncoding('latin1');
  p.stdout.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-200);
    const all = [...tail.matchAll(/mesg=(\d+)/g)];
    if (all.length > 0) count = Number(all[all.length - 1]![1]);
  });
  const exited = new Promise((resolve) => p.once('exit', resolve));
  // Ready when it accepts a connection.
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 100 || p.exitCode !== null) throw new Error('smtp-sink did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    // The counter is printed when a message ends; give the last line a moment to arrive.
    count: async () => {
      await new Promise((r) => setTimeout(r, 100));
      return count;
    },
    close: async () => {
      p.kill('SIGTERM');
      await exited;
    },
  };
}

/** The `smtp-server` package in a Node process of its own: it does not take CPU from the sender
 * being measured (nor the sender from it). */
async function startNodeSink(): Promise<Sink> {
  const sinkProcess = fork(fileURLToPath(import.meta.url), ['--sink'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => sinkProcess.once('message', (m: { port: number }) => resolve(m.port)));
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    count: () =>
      new Promise<number>((resolve) => {
        sinkProcess.once('message', (m: { count: number }) => resolve(m.count));
        sinkProcess.send({ type: 'count' });
      }),
    close: async () => {
      sinkProcess.send({ type: 'stop' });
      await new Promise((r) => sinkProcess.once('exit', r));
    },
  };
}

/** The CSV import of IMPORT_ROWS new addresses (UTF-8, semicolons, three columns); its printed line.
 * CPU time is this process's (the embedded database runs in it; PostgreSQL's server does not). */
async function measureImport(ctx: AppContext): Promise<string> {
  const lines = ['Email;Nom;Prénom'];
  for (let i = 0; i < IMPORT_ROWS; i++) lines.push(`import${i}@exemple.fr;Dupont${i};Élodie`);
  const csv = Buffer.from(lines.join('\r\n'));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const report = await importSubscribers(ctx, csv, {
    legalBasis: 'bench',
    repermission: false,
    method: 'api',
    frequency: 'weekly',
    sources: ['network'],
    language: 'fr',
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return (
    `CSV import: ${report.imported} rows in ${seconds.toFixed(1)} s = ${(report.imported / seconds).toFixed(0)} rows/s (target >= 10,000/s); invalid: ${report.invalid.length}; ` +
    `CPU ${cpuSeconds.toFixed(1)} s = ${(report.imported / cpuSeconds).toFixed(0)} rows per CPU-second${ctx.database.kind === 'pglite' ? ' (embedded database included)' : " (PostgreSQL's own process not)"}`
  );
}

const sink = SMTP === 'smtp-sink' ? await startPostfixSink() : await startNodeSink();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'amap-bench-'));
const config = benchConfig(dataDir, sink.url);
let instance = await startInstance(config, { logger: pino({ level: 'silent' }) });
let { ctx } = instance;
try {
  console.log(
    `Database: ${ctx.database.kind}${ctx.database.kind === 'pglite' ? ` (shared_buffers ${config.pgliteSharedBuffersMb} MB)` : ''}; subscribers: ${N}; SMTP concurrency: ${CONCURRENCY}`,
  );
  console.log(
    `SMTP server: ${SMTP === 'smtp-sink' ? `${SMTP_SINK} (Postfix's benchmark server, C)` : 'smtp-server package (Node, its own process)'} on 127.0.0.1; ` +
      `sending process flags: ${SEND_FLAGS.join(' ') || '(none)'}`,
  );
  await saveSenderSettings(ctx.db, config, { ratePerSecond: 100_000, ratePerHour: 100_000_000, concurrency: CONCURRENCY });
  await ctx.db.deleteFrom('newsletter_deliveries').execute();
  await ctx.db.deleteFrom('subscribers').execute();
  await seedSubscribers(ctx, N, { prefix: `bench${Date.now()}-` });
  if (process.env.BENCH_ONLY_IMPORT) {
    // Only the import (BENCH_ONLY_IMPORT=1), into a reopened instance as in the full run.
    await instance.stop();
    instance = await startInstance(config, { logger: pino({ level: 'silent' }) });
    console.log(await measureImport(instance.ctx));
    await instance.stop();
    await sink.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  }
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) {
    ids.push(
      await seedAnnouncement(ctx, {
        title: `Nouvelle ${i + 1} : la vie des AMAP de la région`,
        origin: i % 2 ? 'remote' : 'local',
        networkHandle: i % 2 ? 'national@amap-france.example' : null,
      }),
    );
  }
  const issue = await ctx.db.transaction().execute((trx) =>
    createIssue(
      trx,
      {
        subject: 'Lettre de décembre',
        introduction: 'Bonjour à toutes et à tous,\n\nVoici les nouvelles du mois.',
        announcementIds: ids,
      },
      null,
    ),
  );

  // (2) MJML per subscriber, on a sample: content and branding loaded once, only the compilation
  // repeated (what a per-subscriber renderer would have to do for each message). Each source holds
  // its subscriber's own line, as a per-subscriber renderer's does (and so that no compile is the
  // same input as another: compileIssue keeps its last results).
  const content = {
    id: issue.id,
    kind: issue.kind,
    subject: issue.subject,
    introduction: issue.introduction,
    announcements: await announcementsByIds(ctx.db, ids),
  };
  const branding = await loadBranding(ctx.db);
  const t = performance.now();
  for (let i = 0; i < SAMPLE; i++) {
    await compileIssue(
      { ...content, introduction: `${content.introduction}\n\nPour le membre n° ${i}.` },
      { instanceName: config.instanceName, publicUrl: config.publicUrl, branding, locale: i % 2 ? 'fr' : 'en' },
    );
  }
  const mjmlPerMsgMs = (performance.now() - t) / SAMPLE;

  // (1) The limit: a bare pooled SMTP client sending the bytes of one finished message.
  const compiled = await compileFor(ctx, issue);
  const sample = await buildMessage(
    ctx,
    (await findIssue(ctx.db, issue.id))!,
    compiled,
    {
      subscriberId: '00000000-0000-4000-8000-000000000000',
      email: 'x@example.org',
      name: 'X',
      language: 'fr',
      subscriberStatus: 'active',
      sources: [],
      networks: [],
      attempts: 1,
      bounceCount: 0,
    },
    { from: 'no-reply@amap-bench.example.org', replyTo: undefined, address: 'no-reply@amap-bench.example.org' },
  );
  // The bytes the send hands to its transport (SMTP-ready: dots stuffed, CRLF).
  const raw = sample.prebuilt!.raw as Buffer;
  const rawFile = path.join(dataDir, 'sample.eml');
  fs.writeFileSync(rawFile, raw);
  // The embedded database belongs to one process at a time: hand it over to the children.
  await instance.stop();

  // The limit is measured just before and just after the send (half the messages each) and the
  // two are pooled, so that a change in the machine's load during the run weighs on both sides.
  const half = Math.ceil(Math.min(N, 20_000) / 2);
  const bare = async (role = '--bare', count = half) => {
    const before = await sink.count();
    const run = await child<{ seconds: number; cpuSeconds: number }>(role, {
      port: sink.port,
      rawFile,
      count,
      concurrency: CONCURRENCY,
    });
    return { messages: (await sink.count()) - before, seconds: run.seconds, cpuSeconds: run.cpuSeconds };
  };
  // For reference: nodemailer's stock pooled transport with the same message (BENCH_STOCK=0 skips it).
  const stock = process.env.BENCH_STOCK === '0' ? null : await bare('--stock', Math.min(N, 5000));
  const bare1 = await bare();

  const before = await sink.count();
  const send = await child<SendReport>('--send', { dataDir, smtpUrl: sink.url, issueId: issue.id }, SEND_FLAGS);
  const sent = (await sink.count()) - before;
  const sendSeconds = send.seconds;
  const rate = sent / sendSeconds;

  const bare2 = await bare();
  const bareRate = (bare1.messages + bare2.messages) / (bare1.seconds + bare2.seconds);

  instance = await startInstance(config, { logger: pino({ level: 'silent' }) });
  ctx = instance.ctx;
  const importLine = await measureImport(ctx);

  const perSubscriberRate = 1000 / mjmlPerMsgMs;
  // Both sides hand every message to the same SMTP server, so no send can beat the limit: the
  // best possible speed-up over per-subscriber rendering is limit × MJML time per message.
  const bound = (bareRate * mjmlPerMsgMs) / 1000;
  console.log(`HTML size of one message: ${(compiled.htmlBytes / 1024).toFixed(1)} KB; raw message: ${(raw.length / 1024).toFixed(1)} KB`);
  console.log(
    `Limit (bare SMTP client in its own process: the send's transport, same bytes, ${CONCURRENCY} connections, ${half} messages before the send and ${half} after): ` +
      `${bareRate.toFixed(0)} messages/s (before: ${(bare1.messages / bare1.seconds).toFixed(0)}/s, after: ${(bare2.messages / bare2.seconds).toFixed(0)}/s)`,
  );
  if (stock) {
    console.log(
      `For reference, nodemailer's stock pooled transport (the limit before the bulk pool), same message, ${stock.messages} messages: ` +
        `${(stock.messages / stock.seconds).toFixed(0)} messages/s, CPU ${((stock.cpuSeconds / stock.messages) * 1000).toFixed(2)} ms per message`,
    );
  }
  console.log(
    `Newsletter send (its own process): ${sent} messages in ${sendSeconds.toFixed(1)} s = ${rate.toFixed(0)} messages/s (${((rate / bareRate) * 100).toFixed(0)}% of the limit; target >= 80%; ` +
      `of which ${send.audienceSeconds.toFixed(1)} s taking the audience; before it, the editor's preview in the same process, not counted: ` +
      `${send.previewSeconds.toFixed(1)} s, most of it loading MJML)`,
  );
  // CPU time per message does not depend on what else the machine runs: the load-independent view
  // of the same comparison.
  const bareCpuMs = ((bare1.cpuSeconds + bare2.cpuSeconds) / (bare1.messages + bare2.messages)) * 1000;
  const sendCpuMs = (send.cpuSeconds / sent) * 1000;
  console.log(
    `CPU per message: send ${sendCpuMs.toFixed(2)} ms (audience and garbage collection included, ${ctx.database.kind === 'pglite' ? 'and the embedded database' : "PostgreSQL's own process not"}), bare client ${bareCpuMs.toFixed(2)} ms ` +
      `(the send costs ${((sendCpuMs / bareCpuMs) * 100).toFixed(0)}% of the bare client's CPU per message; ` +
      `of the send's, taking the audience ${((send.audienceCpuSeconds / sent) * 1000).toFixed(2)} ms)`,
  );
  console.log(
    `MJML per subscriber (measured on ${SAMPLE}, extrapolated): ${mjmlPerMsgMs.toFixed(2)} ms each = ${perSubscriberRate.toFixed(0)} messages/s at best, ${((N * mjmlPerMsgMs) / 1000).toFixed(0)} s for ${N} ` +
      `(compile-once send is ${(rate / perSubscriberRate).toFixed(1)}x faster; target >= 20x)`,
  );
  console.log(
    `Upper bound of that ratio with this SMTP server: limit x MJML time = ${bareRate.toFixed(0)}/s x ${mjmlPerMsgMs.toFixed(2)} ms = ${bound.toFixed(1)}x` +
      (bound < 20 ? ' (below 20: the 20x target cannot be reached end to end against this server)' : ''),
  );
  console.log(
    `Peak memory of the sending process: RSS ${mb(send.peakRss)} during the send, ${mb(send.maxRss)} kernel high-water mark over its life ` +
      `(RSS at process start ${mb(send.rssAtStart)}, after opening the instance ${mb(send.rssBeforeSend)}; peak JS heap ${mb(send.heapPeak)}; ` +
      `at the RSS peak: JS heap ${mb(send.atPeak.heapUsed)} used of ${mb(send.atPeak.heapTotal)}, external ${mb(send.atPeak.external)}; target < 300 MB)` +
      (ctx.database.kind === 'pglite' ? ' (includes the embedded PostgreSQL)' : ''),
  );
  console.log(importLine);
} finally {
  await instance.stop();
  await sink.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
