// The progress of an issue being sent, as the admin page, the REST API and the live topic
// (`newsletters.issue.<id>`, editors only) show it: counts, the rate over the last minute, the
// time left at that rate.
import type { Executor } from '../core/events.ts';
import { addStaffTopicPattern } from '../realtime/realtime.publish.ts';
import { deliveryCounts, type Issue } from './newsletters.repository.ts';

/** The live topic of an issue's progress (editors only: server/realtime). */
export const progressTopic = (issueId: string): string => `newsletters.issue.${issueId}`;
addStaffTopicPattern(/^newsletters\.issue\.[0-9a-f-]{36}$/);

export interface Progress {
  total: number;
  sent: number;
  failed: number;
  skipped: number;
  remaining: number;
  /** Messages per second over the last minute. */
  rate: number;
  /** Seconds left at that rate, or null when unknown. */
  secondsLeft: number | null;
}

export async function progress(db: Executor, issue: Issue): Promise<Progress> {
  const c = await deliveryCounts(db, issue.id);
  const remaining = c.pending + c.sending;
  const rate = Math.round((c.sentLastMinute / 60) * 10) / 10;
  return {
    total: issue.total,
    sent: c.sent,
    failed: c.failed,
    skipped: c.skipped,
    remaining,
    rate,
    secondsLeft: remaining === 0 ? 0 : rate > 0 ? Math.ceil(remaining / rate) : null,
  };
}
