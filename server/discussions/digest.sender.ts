// The daily digest of groups followed by email. A `discussions.digest.daily` job runs once a day
// (at the newsletter's hour, see loadScheduleSettings; a stable job id per day, so several
// processes still make one run) and enqueues one `discussions.digest.group` job per group with
// active followers. That job sends each follower the group's visible posts published since their
// previous digest (nothing when there are none), compiled once per language and window.
//
// Re-running is harmless: a follower's `last_sent_at` is set to the end of the window once their
// message was accepted, and a follower already served up to that time is skipped. Temporary SMTP
// failures make the job fail at the end, so the queue retries only those followers.
import type { AppContext } from '../core/context.ts';
import { formatAddress } from '../mail/mail.headers.ts';
import { hostOf } from '../mail/mail.settings.ts';
import { type MailMessage, MailSendError } from '../mail/mail.types.ts';
import { getMailer } from '../mail/mailer.ts';
import { composeRaw } from '../mail/mime.ts';
import { loadBranding } from '../newsletters/branding.settings.ts';
import { type CompiledIssue, personaliseQp } from '../newsletters/newsletters.render.ts';
import { loadScheduleSettings, uuidFor } from '../newsletters/newsletters.scheduler.ts';
import { BOUNCE_THRESHOLD } from '../newsletters/newsletters.sender.ts';
import { recordBounce } from '../subscribers/subscribers.repository.ts';
import { tokenFor } from '../subscribers/tokens.ts';
import { t } from '../web/i18n.ts';
import { compileDigest } from './digest.render.ts';
import { type DigestRecipient, digestRecipients, groupsWithFollowers, markDigestSent, postsBetween } from './digest.repository.ts';
import { digestToken } from './digest.tokens.ts';
import { groupPath } from './discussions.access.ts';
import { findGroupById, type GroupRow } from './groups.repository.ts';

export const DIGEST_DAILY_QUEUE = 'discussions.digest.daily';
export const DIGEST_GROUP_QUEUE = 'discussions.digest.group';
/** At most this many posts are shown in one digest; the rest are counted, with a link. */
export const DIGEST_MAX_POSTS = 30;
const DAY = 24 * 3600 * 1000;
const PAGE = 200;

export interface GroupDigestJob {
  groupId: string;
  /** End of the window (ISO date): posts published up to then. */
  until: string;
}

/** The next daily run after `now`: today at the configured hour (UTC), or tomorrow. */
export function nextRunAfter(now: Date, hour: number): Date {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour);
  return new Date(today > now.getTime() ? today : today + DAY);
}

export async function scheduleNextDigestRun(ctx: AppContext, now = new Date()): Promise<Date> {
  const { hour } = await loadScheduleSettings(ctx.db);
  const at = nextRunAfter(now, hour);
  await ctx.queue.send(
    DIGEST_DAILY_QUEUE,
    { at: at.toISOString() },
    { id: uuidFor(`${ctx.config.instanceHandle}:group-digest:${at.toISOString()}`), startAfter: at },
  );
  return at;
}

/** One job per group with followers, all with the same window end. */
export async function startDailyDigests(ctx: AppContext, until: Date): Promise<number> {
  const groups = await groupsWithFollowers(ctx.db);
  for (const groupId of groups) {
    await ctx.queue.send(DIGEST_GROUP_QUEUE, { groupId, until: until.toISOString() } satisfies GroupDigestJob, {
      id: uuidFor(`${ctx.config.instanceHandle}:group-digest:${groupId}:${until.toISOString()}`),
    });
  }
  return groups.length;
}

interface Sending {
  ctx: AppContext;
  group: GroupRow;
  until: Date;
  sender: { from: string; replyTo: string | undefined; address: string };
}

function buildMessage(s: Sending, compiled: CompiledIssue, r: DigestRecipient, links: { stop: string; myData: string }): MailMessage {
  const host = hostOf(s.ctx.config.publicUrl);
  const values = {
    GREETING: r.name ? t(r.language, 'issue.greeting', { name: r.name }) : t(r.language, 'issue.greetingAnonymous'),
    PREFERENCES_URL: links.myData,
    UNSUBSCRIBE_URL: links.stop,
    MYDATA_URL: links.myData,
  };
  const message: MailMessage = {
    from: s.sender.from,
    replyTo: s.sender.replyTo,
    to: formatAddress(r.email, r.name),
    subject: compiled.subject,
    html: '',
    text: '',
    // The same for a message sent twice (a retry after a crash), so mail programs show it once.
    messageId: `digest.${s.group.id}.${s.until.getTime()}.${r.subscriberId}@${host}`,
    date: new Date(),
    headers: {
      'List-Id': `<${s.group.id}.digest.${host}>`,
      'List-Unsubscribe': `<${links.stop}>, <mailto:${s.sender.address}?subject=unsubscribe>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      Precedence: 'bulk',
    },
  };
  const raw = composeRaw({ ...message, date: message.date!, headers: message.headers!, ...personaliseQp(compiled, values) });
  message.prebuilt = { ...raw, raw: Buffer.from(raw.raw, 'latin1') };
  return message;
}

export interface GroupDigestOutcome {
  sent: number;
  skipped: number;
  failed: number;
}

/** Sends one group's digest for the window ending at `until`. */
export async function sendGroupDigest(ctx: AppContext, groupId: string, until: Date): Promise<GroupDigestOutcome> {
  const outcome: GroupDigestOutcome = { sent: 0, skipped: 0, failed: 0 };
  const group = await findGroupById(ctx.db, groupId);
  if (!group) return outcome;
  const mailer = getMailer(ctx);
  const sending: Sending = { ctx, group, until, sender: await mailer.sender() };
  const branding = await loadBranding(ctx.db);
  const concurrency = Math.max(1, await mailer.concurrency());
  const groupUrl = `${ctx.config.publicUrl}${groupPath(group)}`;
  const defaultSince = new Date(until.getTime() - DAY);
  // One compilation per language and window start: normally every follower shares the window.
  const compiled = new Map<string, Promise<CompiledIssue | null>>();
  const render = (language: 'fr' | 'en', since: Date) => {
    const key = `${language}|${since.getTime()}`;
    let entry = compiled.get(key);
    if (!entry) {
      entry = (async () => {
        const { posts, total } = await postsBetween(ctx.db, group.id, since, until, DIGEST_MAX_POSTS);
        if (total === 0) return null;
        return compileDigest(
          { group: { name: group.name, url: groupUrl }, posts, total },
          { instanceName: ctx.config.instanceName, publicUrl: ctx.config.publicUrl, branding, locale: language },
        );
      })();
      compiled.set(key, entry);
    }
    return entry;
  };

  let after = '';
  let temporary: unknown;
  for (;;) {
    const page = await digestRecipients(ctx.db, group.id, group.visibility, after, PAGE);
    if (page.length === 0) break;
    after = page[page.length - 1]!.subscriberId;
    const done: string[] = [];
    let next = 0;
    const lane = async () => {
      while (next < page.length) {
        const r = page[next++]!;
        const since = r.lastSentAt ?? defaultSince;
        const issue = since.getTime() >= until.getTime() ? null : await render(r.language, since);
        if (!issue) {
          outcome.skipped++;
          continue;
        }
        const links = {
          stop: `${ctx.config.publicUrl}/discussions/digest/unsubscribe?token=${await digestToken(ctx, 'stop', r.subscriberId, group.id)}`,
          myData: `${ctx.config.publicUrl}/newsletter/my-data?token=${await tokenFor(ctx, 'manage', r.subscriberId)}`,
        };
        try {
          await mailer.send(buildMessage(sending, issue, r, links));
          done.push(r.subscriberId);
          outcome.sent++;
        } catch (error) {
          outcome.failed++;
          if (error instanceof MailSendError && error.permanent) {
            // Counted as for the newsletter; the window still moves on for this address.
            await recordBounce(ctx.db, r.subscriberId, BOUNCE_THRESHOLD);
            done.push(r.subscriberId);
          } else temporary ??= error;
          ctx.log.warn({ groupId: group.id, subscriberId: r.subscriberId, err: (error as Error).message }, 'group digest not sent');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, page.length) }, lane));
    await markDigestSent(ctx.db, group.id, done, until);
    if (page.length < PAGE) break;
  }
  // The queue retries the job; followers already served are skipped then.
  if (temporary) throw temporary;
  return outcome;
}

export function defineDigestQueues(ctx: AppContext): void {
  ctx.queue.define<{ at?: string }>({
    name: DIGEST_DAILY_QUEUE,
    retryLimit: 3,
    handler: async (data) => {
      const until = data.at ? new Date(data.at) : new Date();
      try {
        await startDailyDigests(ctx, until);
      } finally {
        await scheduleNextDigestRun(ctx, new Date(Math.max(Date.now(), until.getTime() + 1000)));
      }
    },
  });
  ctx.queue.define<GroupDigestJob>({
    name: DIGEST_GROUP_QUEUE,
    retryLimit: 5,
    retryDelay: 300,
    expireInSeconds: 3600,
    concurrency: 1,
    handler: async (data) => {
      await sendGroupDigest(ctx, data.groupId, new Date(data.until));
    },
  });
}
