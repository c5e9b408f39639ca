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
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { loadConfig } from '../server/config.ts';
import { startInstance } from '../server/instance.ts';
import { saveSenderSettings } from '../server/mail/mail.settings.ts';
import { toNodemailer } from '../server/mail/transports.ts';
import { loadBranding } from '../server/newsletters/branding.settings.ts';
import { announcementsByIds } from '../server/newsletters/content.repository.ts';
import { compileIssue } from '../server/newsletters/newsletters.render.ts';
import { findIssue } from '../server/newsletters/newsletters.repository.ts';
import { buildMessage, runSendSlice } from '../server/newsletters/newsletters.sender.ts';
import { compileFor, createIssue, startSending } from '../server/newsletters/newsletters.service.ts';
import { importSubscribers } from '../server/subscribers/subscribers.import.ts';
import { seedAnnouncement, seedSubscribers } from '../tests/helpers/newsletter-fixtures.ts';
import { startSmtpSink } from '../tests/helpers/smtp.ts';

const N = Number(process.env.BENCH_SUBSCRIBERS ?? 50_000);
const SAMPLE = Number(process.env.BENCH_MJML_SAMPLE ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);
const IMPORT_ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 50_000);

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const self = fileURLToPath(import.meta.url);

interface SendReport {
  seconds: number;
  /** Of which: taking the audience (creating one delivery row per subscriber). */
  audienceSeconds: number;
  rssAtStart: number;
  rssBeforeSend: number;
  peakRss: number;
  maxRss: number;
  heapPeak: number;
  /** process.memoryUsage() when RSS peaked. */
  atPeak: { heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
}

/** Runs `--role` in a child process and returns the one message it sends back. */
function child<T>(role: string, args: unknown): Promise<T> {
  // BENCH_CPU_PROF=<dir> writes a CPU profile of each measured child (node --cpu-prof).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const p = fork(self, [role, JSON.stringify(args)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, ...prof],
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
  });
}

// The limit: a bare pooled SMTP client sending the bytes of one finished message, with the same
// connection count and messages per connection as the newsletter's transport.
if (process.argv[2] === '--bare') {
  const a = JSON.parse(process.argv[3]!) as { port: number; rawFile: string; count: number; concurrency: number };
  const raw = fs.readFileSync(a.rawFile);
  const bare = nodemailer.createTransport({
    pool: true,
    host: '127.0.0.1',
    port: a.port,
    maxConnections: a.concurrency,
    maxMessages: 1000,
    secure: false,
  });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: a.concurrency }, async () => {
      while (next < a.count) {
        const i = next++;
        await bare.sendMail({ envelope: { from: 'no-reply@amap-bench.example.org', to: [`bare${i}@example.org`] }, raw });
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  bare.close();
  process.send?.({ seconds });
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
  const rssBeforeSend = process.memoryUsage().rss;
  const t0 = performance.now();
  await startSending(inst.ctx, a.issueId, { confirmOversize: true });
  const audienceSeconds = (performance.now() - t0) / 1000;
  while (!(await runSendSlice(inst.ctx, a.issueId, 60_000))) {
    /* the slice re-enqueued itself (no worker here); keep going */
  }
  const seconds = (performance.now() - t0) / 1000;
  sample();
  clearInterval(sampler);
  await inst.stop();
  const report: SendReport = {
    seconds,
    audienceSeconds,
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

// The SMTP server runs in its own process, as a real one would: it does not take CPU from the
// sender being measured (nor the sender from it).
if (process.argv.includes('--sink')) {
  const child = await startSmtpSink({ countOnly: true });
  process.send?.({ port: child.port });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'count') process.send?.({ count: child.count });
    if (m.type === 'stop') void child.close().then(() => process.exit(0));
  });
  await new Promise(() => {});
}

const sinkProcess = fork(fileURLToPath(import.meta.url), ['--sink'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const sinkPort = await new Promise<number>((resolve) => sinkProcess.once('message', (m: { port: number }) => resolve(m.port)));
const sink = {
  port: sinkPort,
  url: `smtp://127.0.0.1:${sinkPort}`,
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
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'amap-bench-'));
const config = benchConfig(dataDir, sink.url);
let instance = await startInstance(config, { logger: pino({ level: 'silent' }) });
let { ctx } = instance;
try {
  console.log(`Database: ${ctx.database.kind}; subscribers: ${N}; SMTP concurrency: ${CONCURRENCY}`);
  await saveSenderSettings(ctx.db, config, { ratePerSecond: 100_000, ratePerHour: 100_000_000, concurrency: CONCURRENCY });
  await ctx.db.deleteFrom('newsletter_deliveries').execute();
  await ctx.db.deleteFrom('subscribers').execute();
  await seedSubscribers(ctx, N, { prefix: `bench${Date.now()}-` });
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
  // repeated (what a per-subscriber renderer would have to do for each message).
  const content = {
    id: issue.id,
    kind: issue.kind,
    subject: issue.subject,
    introduction: issue.introduction,
    announcements: await announcementsByIds(ctx.db, ids),
  };
  const branding = await loadBranding(ctx.db);
  let t = performance.now();
  for (let i = 0; i < SAMPLE; i++) {
    await compileIssue(content, { instanceName: config.instanceName, publicUrl: config.publicUrl, branding, locale: i % 2 ? 'fr' : 'en' });
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
  const built = await nodemailer
    .createTransport({ streamTransport: true, buffer: true, newline: 'windows' })
    .sendMail(toNodemailer(sample));
  const raw = built.message as Buffer;
  const rawFile = path.join(dataDir, 'sample.eml');
  fs.writeFileSync(rawFile, raw);
  // The embedded database belongs to one process at a time: hand it over to the children.
  await instance.stop();

  // The limit is measured just before and just after the send (half the messages each) and the
  // two are pooled, so that a change in the machine's load during the run weighs on both sides.
  const half = Math.ceil(Math.min(N, 20_000) / 2);
  const bare = async () => {
    const before = await sink.count();
    const run = await child<{ seconds: number }>('--bare', { port: sink.port, rawFile, count: half, concurrency: CONCURRENCY });
    return { messages: (await sink.count()) - before, seconds: run.seconds };
  };
  const bare1 = await bare();

  const before = await sink.count();
  const send = await child<SendReport>('--send', { dataDir, smtpUrl: sink.url, issueId: issue.id });
  const sent = (await sink.count()) - before;
  const sendSeconds = send.seconds;
  const rate = sent / sendSeconds;

  const bare2 = await bare();
  const bareRate = (bare1.messages + bare2.messages) / (bare1.seconds + bare2.seconds);

  instance = await startInstance(config, { logger: pino({ level: 'silent' }) });
  ctx = instance.ctx;
  // CSV import.
  const lines = ['Email;Nom;Prénom'];
  for (let i = 0; i < IMPORT_ROWS; i++) lines.push(`import${i}@exemple.fr;Dupont${i};Élodie`);
  const csv = Buffer.from(lines.join('\r\n'));
  t = performance.now();
  const report = await importSubscribers(ctx, csv, {
    legalBasis: 'bench',
    repermission: false,
    method: 'api',
    frequency: 'weekly',
    sources: ['network'],
    language: 'fr',
  });
  const importRate = report.imported / ((performance.now() - t) / 1000);

  const perSubscriberRate = 1000 / mjmlPerMsgMs;
  // Both sides hand every message to the same SMTP server, so no send can beat the limit: the
  // best possible speed-up over per-subscriber rendering is limit × MJML time per message.
  const bound = (bareRate * mjmlPerMsgMs) / 1000;
  console.log(`HTML size of one message: ${(compiled.htmlBytes / 1024).toFixed(1)} KB; raw message: ${(raw.length / 1024).toFixed(1)} KB`);
  console.log(
    `Limit (bare SMTP client in its own process, same bytes, ${CONCURRENCY} connections, ${half} messages before the send and ${half} after): ` +
      `${bareRate.toFixed(0)} messages/s (before: ${(bare1.messages / bare1.seconds).toFixed(0)}/s, after: ${(bare2.messages / bare2.seconds).toFixed(0)}/s)`,
  );
  console.log(
    `Newsletter send (its own process): ${sent} messages in ${sendSeconds.toFixed(1)} s = ${rate.toFixed(0)} messages/s (${((rate / bareRate) * 100).toFixed(0)}% of the limit; target >= 80%; ` +
      `of which ${send.audienceSeconds.toFixed(1)} s taking the audience)`,
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
  console.log(
    `CSV import: ${report.imported} rows in ${(report.imported / importRate).toFixed(1)} s = ${importRate.toFixed(0)} rows/s (target >= 10,000/s); invalid: ${report.invalid.length}`,
  );
} finally {
  await instance.stop();
  await sink.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
