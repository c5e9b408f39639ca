// A crash in the middle of a send: the instance (a real child process) is killed with SIGKILL
// while messages are going out, a new one is started on the same database, and the send resumes
// where it stopped. Every subscriber gets the issue; only messages that were in flight at the
// crash (at most one claimed batch: BATCH_FACTOR × concurrency) may arrive twice, with the same
// Message-ID.
import fs from 'node:fs';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { startInstance } from '../../server/instance.ts';
import { writeSettingValue } from '../../server/mail/mail.repository.ts';
import { saveSenderSettings } from '../../server/mail/mail.settings.ts';
import { BATCH_FACTOR, LEASE_SETTING } from '../../server/newsletters/newsletters.sender.ts';
import { createIssue } from '../../server/newsletters/newsletters.service.ts';
import { createUserWithToken } from '../helpers/accounts.ts';
import { createPostgresDatabase, usingPostgres } from '../helpers/database.ts';
import { testEnv } from '../helpers/instance.ts';
import { seedSubscribers } from '../helpers/newsletter-fixtures.ts';
import { type ProgramRun, runProgram, waitForOk } from '../helpers/process.ts';
import { parseMail, startSmtpSink } from '../helpers/smtp.ts';

const SUBSCRIBERS = 400;
const CONCURRENCY = 4;
const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('a crash while sending', () => {
  it('resumes after a restart and sends each subscriber exactly one copy, bar those in flight', async () => {
    const sink = await startSmtpSink({ delayMs: 15 });
    cleanups.push(() => sink.close());
    const env = await testEnv({ SMTP_URL: sink.url, LOG_LEVEL: 'warn' });
    if (usingPostgres()) {
      const pg = await createPostgresDatabase();
      env.DATABASE_URL = pg.url;
      cleanups.push(pg.drop);
    }
    cleanups.push(async () => fs.rmSync(env.DATA_DIR!, { recursive: true, force: true }));

    // Prepare the data with an instance in this process, then stop it.
    const config = loadConfig(env);
    const setup = await startInstance(config, { logger: pino({ level: 'silent' }) });
    let issueId: string;
    let token: string;
    try {
      await seedSubscribers(setup.ctx, SUBSCRIBERS);
      await saveSenderSettings(setup.ctx.db, config, { ratePerSecond: 10_000, concurrency: CONCURRENCY });
      // Short enough for the restarted process to take over the crashed one's rows soon, long enough
      // that a loaded machine never sees a live claim expire (that would send a third copy).
      await writeSettingValue(setup.ctx.db, LEASE_SETTING, 10);
      ({ token } = await createUserWithToken(setup.ctx, 'editor'));
      issueId = (await setup.ctx.db.transaction().execute((trx) => createIssue(trx, { subject: 'Lettre', introduction: 'Bonjour.' }, null)))
        .id;
    } finally {
      await setup.stop();
    }

    const url = `http://127.0.0.1:${env.PORT}`;
    const runs: ProgramRun[] = [];
    cleanups.push(async () => {
      for (const r of runs) await r.stop(5000).catch(() => {});
    });
    const first = runProgram(env);
    runs.push(first);
    await waitForOk(`${url}/healthz`, first, 60_000);
    const send = await fetch(`${url}/api/v1/newsletters/${issueId}/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(send.status).toBe(202);
    await sink.waitFor(SUBSCRIBERS / 4, 60_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const atCrash = sink.count;
    expect(atCrash).toBeLessThan(SUBSCRIBERS);

    const second = runProgram(env);
    runs.push(second);
    await waitForOk(`${url}/healthz`, second, 60_000);
    const until = Date.now() + 90_000;
    let issue: any;
    for (;;) {
      issue = await (await fetch(`${url}/api/v1/newsletters/${issueId}`, { headers: { authorization: `Bearer ${token}` } })).json();
      if (issue.status === 'sent') break;
      if (Date.now() > until) throw new Error(`not finished: ${JSON.stringify(issue)}; stderr: ${second.stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(issue.progress).toMatchObject({ total: SUBSCRIBERS, sent: SUBSCRIBERS, failed: 0, remaining: 0 });

    const copies = new Map<string, string[]>();
    for (const m of sink.messages) {
      const id = (await parseMail(m)).messageId!;
      copies.set(m.to[0]!, [...(copies.get(m.to[0]!) ?? []), id]);
    }
    expect(copies.size).toBe(SUBSCRIBERS);
    const duplicated = [...copies.values()].filter((ids) => ids.length > 1);
    expect(duplicated.every((ids) => ids.length === 2 && ids[0] === ids[1])).toBe(true);
    expect(duplicated.length).toBeLessThanOrEqual(BATCH_FACTOR * CONCURRENCY);
    expect(sink.count).toBe(SUBSCRIBERS + duplicated.length);
    await second.stop();
  }, 240_000);
});
