// The sending worker. A `newsletters.send` job works on one issue for a slice of time (60 s): a
// pipeline claims deliveries ahead of the SMTP connections, sends them (messages composed by
// newsletters.compose.ts), records the outcomes behind them in chunks, and at the end of the
// slice enqueues its own continuation, so that a long send never holds one job for hours; a pause
// or a cancellation takes effect within STATUS_CHECK_MS. The editor's page follows it live.
//
// Exactly-once, bar in-flight messages: a delivery becomes `sent` only after the SMTP server
// accepted the message. If the process dies, the claimed rows stay `sending` until their lease
// expires, then another worker sends them again: at most BATCH_FACTOR × concurrency deliveries per
// process can be sent twice (claimed, accepted, not yet recorded), with the same Message-ID.
import type { AppContext } from '../core/context.ts';
import { readSettingValue } from '../mail/mail.repository.ts';
import { MailSendError } from '../mail/mail.types.ts';
import { getMailer } from '../mail/mailer.ts';
import type { RawScratch } from '../mail/mime.ts';
import { publishRealtime } from '../realtime/realtime.publish.ts';
import { recordBounce, resetBounces } from '../subscribers/subscribers.repository.ts';
import { buildMessage, makeRenderer } from './newsletters.compose.ts';
import { progress, progressTopic } from './newsletters.progress.ts';
import {
  type ClaimedDelivery,
  claimDeliveries,
  deliveryCounts,
  findIssue,
  markFailed,
  markRetry,
  markSent,
  markSkipped,
  releaseDeliveries,
  updateIssue,
} from './newsletters.repository.ts';

export const SEND_QUEUE = 'newsletters.send';
/** How long one job keeps sending before handing over to its continuation. Each hand-over empties
 * the pipeline and waits for the queue's next poll (up to half a second): at 1,500 messages per
 * second a 20 s slice lost 2–3 % of a 50,000 send to it. */
const SLICE_MS = 60_000;
/** Deliveries claimed and not yet recorded, in multiples of the SMTP concurrency: the most a crash
 * can send twice. Claims and records go by half of it; fewer would make the database round trips
 * (a few milliseconds each on the embedded database, which runs in this thread) cost as much as
 * the sending itself. */
export const BATCH_FACTOR = 20;
/** How often a sending job reads its issue's status: a pause or a cancellation takes effect within
 * this (plus the messages on the wire). At 1,500 messages per second a second was a whole small
 * issue. */
const STATUS_CHECK_MS = 250;
/** Sending lanes per SMTP connection (see runSendSlice). */
const LANES_PER_CONNECTION = 2;
/** Temporary failures are retried this many times (with growing delays) before giving up. */
export const MAX_ATTEMPTS = 6;
/** Permanent refusals in a row after which an address is marked bouncing. */
export const BOUNCE_THRESHOLD = 3;
export const LEASE_SETTING = 'newsletter.lease_seconds';
// Longer than the worst wait of a claimed row: BATCH_FACTOR messages ahead of it on its lane,
// each allowed 60 s of SMTP timeouts.
const DEFAULT_LEASE_SECONDS = BATCH_FACTOR * 60 + 300;

export function retryDelaySeconds(attempt: number): number {
  return Math.min(30 * 2 ** Math.max(0, attempt - 1), 3600);
}

async function leaseSeconds(ctx: AppContext): Promise<number> {
  const v = await readSettingValue(ctx.db, LEASE_SETTING);
  return typeof v === 'number' && v >= 1 ? v : DEFAULT_LEASE_SECONDS;
}

/** One slice of sending; returns true when the issue is finished.
 *
 * A pipeline, not batch-then-wait: `concurrency` lanes keep the pooled SMTP connections busy
 * while deliveries are claimed ahead of them and outcomes are recorded behind them, in chunks
 * (one UPDATE per chunk, never one per message). At most BATCH_FACTOR × concurrency deliveries are
 * claimed and not yet recorded at any moment: that window bounds what a crash can send twice. */
export async function runSendSlice(ctx: AppContext, issueId: string, sliceMs = SLICE_MS): Promise<boolean> {
  const issue = await findIssue(ctx.db, issueId);
  if (issue?.status !== 'sending') return true;
  const mailer = getMailer(ctx);
  const concurrency = await mailer.concurrency();
  const lease = await leaseSeconds(ctx);
  const sender = await mailer.sender();
  const renderer = await makeRenderer(ctx, issue);
  const until = Date.now() + sliceMs;
  const window = concurrency * BATCH_FACTOR;
  // Twice as many lanes as connections: while a connection carries one lane's message, another
  // lane writes its next one and waits for that connection, so that no connection stays idle
  // while a message is being composed (the SMTP client itself now takes less time per message
  // than composing one).
  const laneCount = concurrency * LANES_PER_CONNECTION;
  // Half a window per claim, so that the next chunk is claimed while the previous one is sent.
  const chunk = Math.max(1, Math.floor(window / 2));

  const queue: ClaimedDelivery[] = [];
  let unsettled = 0; // claimed, outcome not yet written
  let sent: string[] = [];
  let skipped: string[] = [];
  let hadBounced = new Set<string>();
  let failure: unknown;
  // Keyset cursor over the issue's deliveries (subscriber ids); each slice starts from the first.
  let cursor: string | null = null;
  let checkedAt = Date.now();
  let exhausted = false; // nothing more to claim in this slice (none left, time up, or paused)
  let stopped = false; // paused or cancelled: finish what is claimed, then return
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const sleep = () => new Promise<void>((resolve) => (wake = resolve));
  let laneWaiters: (() => void)[] = [];
  const wakeLanes = () => {
    const ws = laneWaiters;
    laneWaiters = [];
    for (const w of ws) w();
  };

  // The editor's page follows the progress live (newsletters.issue.<id>): at most once a second,
  // after a chunk is recorded, and never at the cost of the send.
  let publishedAt = 0;
  const publishProgress = async (status: string) => {
    publishedAt = Date.now();
    try {
      await publishRealtime(ctx.db, progressTopic(issueId), { status, ...(await progress(ctx.db, issue)) });
    } catch (error) {
      ctx.log.warn({ err: error }, 'newsletters: could not publish the progress of a send');
    }
  };

  const settle = async () => {
    const s = sent;
    const k = skipped;
    const b = hadBounced;
    sent = [];
    skipped = [];
    hadBounced = new Set();
    await markSent(ctx.db, issueId, s);
    await markSkipped(ctx.db, issueId, k);
    await resetBounces(
      ctx.db,
      s.filter((id) => b.has(id)),
    );
    unsettled -= s.length + k.length;
    if (Date.now() - publishedAt >= 1000) await publishProgress('sending');
  };

  // The only place that claims and records in bulk: database work is serialised here, off the lanes.
  const keeper = async () => {
    while (true) {
      if (failure !== undefined) return;
      const inFlight = unsettled - sent.length - skipped.length;
      // Recorded by the chunk, or whatever is done when nothing else is under way.
      if (sent.length + skipped.length >= chunk || (inFlight === 0 && sent.length + skipped.length > 0)) {
        await settle();
        continue;
      }
      // A pause or a cancellation takes effect within STATUS_CHECK_MS: the messages on the wire finish,
      // the claimed ones not yet begun are given back.
      if (!stopped && Date.now() - checkedAt >= STATUS_CHECK_MS) {
        checkedAt = Date.now();
        const current = await findIssue(ctx.db, issueId);
        if (current?.status !== 'sending') {
          stopped = true;
          exhausted = true;
          const back = queue.splice(0).map((d) => d.subscriberId);
          // Paused: given back, to be sent on resume. Cancelled: the cancellation skipped every
          // pending row; these were claimed then, so they are skipped here, or they would stay
          // pending for ever on an issue that will never send them.
          if (current?.status === 'cancelled') await markSkipped(ctx.db, issueId, back);
          else await releaseDeliveries(ctx.db, issueId, back);
          unsettled -= back.length;
          await publishProgress(current?.status ?? 'cancelled');
          wakeLanes();
        }
        continue;
      }
      if (!exhausted && Date.now() >= until) exhausted = true;
      if (!exhausted && queue.length < laneCount && unsettled + chunk <= window) {
        const claimed = await claimDeliveries(ctx.db, issueId, chunk, lease, cursor, issue.kind !== 'manual');
        // Rows before the cursor that come due later (retries, expired leases) are for the next slice.
        if (claimed.length < chunk) exhausted = true;
        unsettled += claimed.length;
        for (const d of claimed) {
          if (d.bounceCount > 0) hadBounced.add(d.subscriberId);
          // UUIDs sort the same as text and as uuid (lower-case hex).
          if (cursor === null || d.subscriberId > cursor) cursor = d.subscriberId;
        }
        queue.push(...claimed);
        wakeLanes();
        continue;
      }
      if (exhausted) wakeLanes();
      if (exhausted && unsettled === 0) return;
      // Woken by each finished message, and at least every STATUS_CHECK_MS (the ticker below) for
      // the pause check. One timer for the slice, not one per wake: at 2,000 messages per second
      // arming and clearing a timer per message showed in the profile.
      await sleep();
    }
  };

  const lane = async () => {
    // One message at a time per lane: when the next one is written into this buffer, the SMTP
    // client has sent the previous one and had the server's answer.
    const scratch: RawScratch = {};
    while (true) {
      const d = queue.shift();
      if (!d) {
        if (exhausted) return;
        await new Promise<void>((resolve) => laneWaiters.push(resolve));
        continue;
      }
      await sendOne(d, scratch);
      signal();
    }
  };

  const sendOne = async (d: ClaimedDelivery, scratch: RawScratch) => {
    // Unsubscribed or erased since the audience was taken: not sent.
    if (d.subscriberStatus !== 'active') {
      skipped.push(d.subscriberId);
      return;
    }
    const { compiled, count } = await renderer.render(d);
    // A digest or alert with nothing this subscriber asked for is not sent to them.
    if (count === 0 && issue.kind !== 'manual') {
      skipped.push(d.subscriberId);
      return;
    }
    try {
      await mailer.send(await buildMessage(ctx, issue, compiled, d, sender, false, scratch));
      sent.push(d.subscriberId);
    } catch (error) {
      // A failed send may have been cut off mid-message, its bytes still queued somewhere: the
      // next message gets a buffer of its own.
      scratch.buffer = undefined;
      try {
        await recordFailure(ctx, issueId, d, error);
      } finally {
        unsettled -= 1;
      }
    }
  };

  // A lane that fails (a template that does not compile) stops the slice: nothing more is sent,
  // claimed rows go back to the queue when their lease ends, and the job is retried.
  const lanes = Array.from({ length: laneCount }, () =>
    lane().catch((error: unknown) => {
      failure ??= error;
      exhausted = true;
      queue.length = 0;
      signal();
    }),
  );
  const ticker = setInterval(signal, STATUS_CHECK_MS);
  try {
    await keeper();
  } catch (error) {
    failure ??= error;
  } finally {
    clearInterval(ticker);
    exhausted = true;
    queue.length = 0;
    wakeLanes();
    await Promise.all(lanes);
  }
  if (failure !== undefined) throw failure;
  if (stopped) return true;
  const finished = await finishOrContinue(ctx, issueId, lease);
  if (finished) await publishProgress('sent');
  return finished;
}

async function recordFailure(ctx: AppContext, issueId: string, d: ClaimedDelivery, error: unknown): Promise<void> {
  const e = error instanceof MailSendError ? error : new MailSendError(String((error as Error)?.message ?? error), false);
  if (e.permanent || d.attempts >= MAX_ATTEMPTS) {
    await markFailed(ctx.db, issueId, d.subscriberId, e.message);
    if (e.permanent) await recordBounce(ctx.db, d.subscriberId, BOUNCE_THRESHOLD);
  } else {
    await markRetry(ctx.db, issueId, d.subscriberId, e.message, new Date(Date.now() + retryDelaySeconds(d.attempts) * 1000));
  }
  ctx.log.warn(
    { issueId, subscriberId: d.subscriberId, permanent: e.permanent, attempt: d.attempts, err: e.message },
    'newsletter delivery failed',
  );
}

/** Marks the issue sent when nothing is left, or enqueues the next slice (now, or when a retry is due). */
async function finishOrContinue(ctx: AppContext, issueId: string, lease: number): Promise<boolean> {
  const counts = await deliveryCounts(ctx.db, issueId);
  if (counts.pending === 0 && counts.sending === 0) {
    await updateIssue(ctx.db, issueId, { status: 'sent', finishedAt: new Date() }, ['sending']);
    return true;
  }
  let startAfter = new Date();
  if (counts.nextAttemptAt) {
    // A `sending` row belongs to a live worker until its lease ends; a pending one waits for its retry time.
    const next = counts.nextAttemptAt.getTime() + (counts.pending === 0 ? lease * 1000 : 0);
    if (next > Date.now()) startAfter = new Date(next);
  }
  await ctx.queue.send(SEND_QUEUE, { issueId }, { startAfter });
  return false;
}

export function defineSendQueue(ctx: AppContext): void {
  ctx.queue.define<{ issueId: string }>({
    name: SEND_QUEUE,
    retryLimit: 10,
    retryDelay: 5,
    retryDelayMax: 300,
    // A slice, then the messages on the wire finishing (each bounded by the SMTP timeouts).
    expireInSeconds: 300,
    // One slice at a time per process: parallelism comes from the SMTP concurrency inside it.
    concurrency: 1,
    handler: async ({ issueId }) => {
      await runSendSlice(ctx, issueId);
    },
  });
}

/** Used by the tick: issues marked sending with no job in sight get one (after a crash or restart). */
export async function ensureSendJobs(ctx: AppContext, issueIds: string[]): Promise<void> {
  for (const issueId of issueIds) await ctx.queue.send(SEND_QUEUE, { issueId });
}
