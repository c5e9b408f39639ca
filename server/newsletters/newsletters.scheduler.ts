// Time-driven work, run by a `newsletters.tick` job once a minute (the job re-enqueues itself with
// an id derived from the minute, so several processes still make one tick per minute): start
// scheduled issues, restart stalled sends (after a crash), compose the weekly and monthly digests,
// purge what the retention rules say. Alerts are driven by events, debounced (see defineAlerts).
import crypto from 'node:crypto';
import type { AppContext } from '../core/context.ts';
import type { Executor } from '../core/events.ts';
import { readSettingValue } from '../mail/mail.repository.ts';
import { deleteUnconfirmedBefore, purgeUnsubscribedBefore } from '../subscribers/subscribers.repository.ts';
import { t } from '../web/i18n.ts';
import { announcementsBetween, resourcesBetween } from './content.repository.ts';
import {
  deliveryCounts,
  dueScheduledIssues,
  insertIssue,
  issuesWithStatus,
  lastIssueOfKind,
  updateIssue,
} from './newsletters.repository.ts';
import { SEND_QUEUE } from './newsletters.sender.ts';
import { startSending } from './newsletters.service.ts';
import '../announcements/announcements.events.ts';
import { oncePerTransaction } from '../core/once-per-transaction.ts';

export const TICK_QUEUE = 'newsletters.tick';
export const ALERT_QUEUE = 'newsletters.alert';
export const UNCONFIRMED_DAYS = 7;
const DAY = 24 * 3600 * 1000;

/** A stable UUID for a name: enqueuing the same name twice makes one job. */
export function uuidFor(name: string): string {
  const h = crypto.createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface ScheduleSettings {
  /** 0 = Sunday ... 6 = Saturday; the weekly digest goes out that day from `hour` (UTC). */
  weeklyDay: number;
  hour: number;
  alertDebounceSeconds: number;
  unsubscribedRetentionDays: number;
}

export async function loadScheduleSettings(db: Executor): Promise<ScheduleSettings> {
  const v = ((await readSettingValue(db, 'newsletter.schedule')) ?? {}) as Partial<ScheduleSettings>;
  const int = (x: unknown, d: number, min: number, max: number) =>
    typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max ? x : d;
  return {
    weeklyDay: int(v.weeklyDay, 1, 0, 6),
    hour: int(v.hour, 7, 0, 23),
    alertDebounceSeconds: int(v.alertDebounceSeconds, 300, 0, 86_400),
    unsubscribedRetentionDays: int(v.unsubscribedRetentionDays, 30, 0, 3650),
  };
}

/**
 * Composes and starts a digest of what was published since the previous one. Nothing is created
 * when nothing is new; subscribers whose sources match none of it get nothing (skipped).
 */
export async function composeDigest(ctx: AppContext, kind: 'weekly' | 'monthly' | 'alert', now = new Date()): Promise<string | null> {
  const last = await lastIssueOfKind(ctx.db, kind);
  const fallback = new Date(now.getTime() - (kind === 'monthly' ? 31 : kind === 'weekly' ? 7 : 1) * DAY);
  const since = last?.coversUntil ?? fallback;
  const news = await announcementsBetween(ctx.db, since, now, 50);
  // Alerts are driven by announcements; weekly and monthly digests also carry new resources.
  const resources = kind === 'alert' ? [] : await resourcesBetween(ctx.db, since, now, 20);
  if (news.length === 0 && resources.length === 0) return null;
  const locale = ctx.config.defaultLocale;
  const instance = ctx.config.instanceName;
  const subject =
    kind === 'alert'
      ? news.length === 1
        ? t(locale, 'issue.subject.alert', { instance, title: news[0]!.title })
        : t(locale, 'issue.subject.alertMany', { instance, count: news.length })
      : t(locale, `issue.subject.${kind}`, { instance });
  const issue = await insertIssue(ctx.db, {
    kind,
    subject: subject.slice(0, 200),
    introduction: '',
    announcementIds: news.map((a) => a.id).reverse(),
    resourceIds: resources.map((r) => r.id).reverse(),
    createdBy: null,
    coversUntil: now,
  });
  await startSending(ctx, issue.id, { confirmOversize: true });
  return issue.id;
}

function weeklyDue(now: Date, lastAt: Date | null, s: ScheduleSettings): boolean {
  if (now.getUTCDay() !== s.weeklyDay || now.getUTCHours() < s.hour) return false;
  return !lastAt || now.getTime() - lastAt.getTime() > 6 * DAY;
}

function monthlyDue(now: Date, lastAt: Date | null, s: ScheduleSettings): boolean {
  if (now.getUTCDate() !== 1 || now.getUTCHours() < s.hour) return false;
  return !lastAt || now.getTime() - lastAt.getTime() > 20 * DAY;
}

export async function tick(ctx: AppContext, now = new Date()): Promise<void> {
  for (const issue of await dueScheduledIssues(ctx.db, now)) {
    try {
      await startSending(ctx, issue.id);
    } catch (error) {
      // A scheduled issue that cannot go (too heavy, empty) goes back to draft for the editor.
      await updateIssue(ctx.db, issue.id, { status: 'draft', scheduledAt: null }, ['scheduled']);
      ctx.log.warn({ issueId: issue.id, err: (error as Error).message }, 'scheduled newsletter could not start');
    }
  }
  await resumeStalled(ctx);
  const s = await loadScheduleSettings(ctx.db);
  if (weeklyDue(now, (await lastIssueOfKind(ctx.db, 'weekly'))?.createdAt ?? null, s)) await composeDigest(ctx, 'weekly', now);
  if (monthlyDue(now, (await lastIssueOfKind(ctx.db, 'monthly'))?.createdAt ?? null, s)) await composeDigest(ctx, 'monthly', now);
  await deleteUnconfirmedBefore(ctx.db, new Date(now.getTime() - UNCONFIRMED_DAYS * DAY));
  await purgeUnsubscribedBefore(ctx.db, new Date(now.getTime() - s.unsubscribedRetentionDays * DAY));
}

/**
 * Issues marked sending get a sending job: at start, all of them (the process that was sending
 * may have died); on each tick, those with nothing sent in the last minute. An extra job is
 * harmless: workers share an issue's deliveries through their claims.
 */
export async function resumeStalled(ctx: AppContext, atStart = false): Promise<void> {
  for (const issue of await issuesWithStatus(ctx.db, 'sending')) {
    const c = await deliveryCounts(ctx.db, issue.id);
    if ((atStart || c.sentLastMinute === 0) && c.pending + c.sending > 0) await ctx.queue.send(SEND_QUEUE, { issueId: issue.id });
  }
}

export async function enqueueTick(ctx: AppContext, at: Date): Promise<void> {
  const minute = Math.floor(at.getTime() / 60_000);
  await ctx.queue.send(
    TICK_QUEUE,
    {},
    { id: uuidFor(`${ctx.config.instanceHandle}:tick:${minute}`), startAfter: new Date(minute * 60_000) },
  );
}

export function defineScheduler(ctx: AppContext): void {
  ctx.queue.define<object>({
    name: TICK_QUEUE,
    retryLimit: 1,
    expireInSeconds: 300,
    handler: async () => {
      try {
        await tick(ctx);
      } finally {
        await enqueueTick(ctx, new Date(Date.now() + 60_000));
      }
    },
  });
  ctx.queue.define<object>({
    name: ALERT_QUEUE,
    retryLimit: 5,
    handler: async () => {
      await composeDigest(ctx, 'alert');
    },
  });
  // New announcements (ours or from followed networks) → one alert job per debounce window:
  // several announcements close together go out in one message.
  // A transaction that stores many announcements (received together) records the job once: the
  // alert reads what is new when it runs, so it covers all of them.
  const onNews = (_payload: { id: string }, trx: Executor) =>
    oncePerTransaction(trx, ALERT_QUEUE, async () => {
      // Read through `trx`: on PGlite a query outside the open transaction would wait for it forever.
      const { alertDebounceSeconds } = await loadScheduleSettings(trx);
      const windowMs = Math.max(1, alertDebounceSeconds) * 1000;
      const bucket = Math.floor(Date.now() / windowMs);
      await ctx.queue.send(
        ALERT_QUEUE,
        {},
        { trx, id: uuidFor(`${ctx.config.instanceHandle}:alert:${windowMs}:${bucket}`), startAfter: new Date((bucket + 1) * windowMs) },
      );
    });
  ctx.events.on('announcement.published', onNews);
  ctx.events.on('announcement.received', onNews);
}
