// The rules of an issue's life: draft → (scheduled) → sending ⇄ paused → sent, or cancelled.
// Starting a send takes the audience at that moment: one delivery row per recipient, created in
// the same transaction that marks the issue `sending` and enqueues the first sending job.
import crypto from 'node:crypto';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { Executor } from '../core/events.ts';
import { formatAddress, headerText, isValidEmail } from '../mail/mail.headers.ts';
import { MailSendError } from '../mail/mail.types.ts';
import { getMailer } from '../mail/mailer.ts';
import { loadAudienceSettings } from './audience.settings.ts';
import { loadBranding } from './branding.settings.ts';
import {
  announcementsBetween,
  announcementsByIds,
  type IssueAnnouncement,
  type IssueResource,
  resourcesBetween,
  resourcesByIds,
} from './content.repository.ts';
import { buildMessage } from './newsletters.compose.ts';
import { type CompiledIssue, compileIssue, MAX_HTML_BYTES } from './newsletters.render.ts';
import {
  createDeliveries,
  findIssue,
  type Issue,
  insertIssue,
  lastIssueOfKind,
  skipRemaining,
  updateIssue,
} from './newsletters.repository.ts';
import { SEND_QUEUE } from './newsletters.sender.ts';
import type { IssueKind } from './newsletters.tables.ts';
import { coverage } from './sources.ts';

export interface IssueInput {
  subject: string;
  introduction?: string;
  announcementIds?: string[];
  resourceIds?: string[];
}

function cleanSubject(subject: string): string {
  const clean = headerText(subject, 200);
  if (!clean) throw new AppError('validation_failed', 'The subject is empty.', { field: 'subject' });
  return clean;
}

export async function createIssue(trx: Executor, input: IssueInput, userId: string | null, kind: IssueKind = 'manual'): Promise<Issue> {
  return insertIssue(trx, {
    kind,
    subject: cleanSubject(input.subject),
    introduction: (input.introduction ?? '').slice(0, 20_000),
    announcementIds: [...new Set(input.announcementIds ?? [])].slice(0, 100),
    resourceIds: [...new Set(input.resourceIds ?? [])].slice(0, 50),
    createdBy: userId,
  });
}

export async function editIssue(trx: Executor, id: string, input: IssueInput): Promise<Issue> {
  const issue = await requireIssue(trx, id);
  if (issue.status !== 'draft' && issue.status !== 'scheduled')
    throw new AppError('conflict', 'Only a draft or a scheduled issue can be edited.');
  return (await updateIssue(trx, id, {
    subject: cleanSubject(input.subject),
    introduction: (input.introduction ?? '').slice(0, 20_000),
    ...(input.announcementIds ? { announcementIds: [...new Set(input.announcementIds)].slice(0, 100) } : {}),
    ...(input.resourceIds ? { resourceIds: [...new Set(input.resourceIds)].slice(0, 50) } : {}),
    htmlBytes: null,
  }))!;
}

export async function requireIssue(db: Executor, id: string): Promise<Issue> {
  const issue = await findIssue(db, id);
  if (!issue) throw new AppError('not_found', 'No such newsletter issue.');
  return issue;
}

/** What is new since the last manual issue went out: proposed for the next one. */
export async function proposeAnnouncements(db: Executor): Promise<IssueAnnouncement[]> {
  const last = await lastIssueOfKind(db, 'manual');
  return announcementsBetween(db, last?.startedAt ?? null, new Date(), 30);
}

/** Resources published since the last manual issue went out: proposed for the next one. */
export async function proposeResources(db: Executor): Promise<IssueResource[]> {
  const last = await lastIssueOfKind(db, 'manual');
  return resourcesBetween(db, last?.startedAt ?? null, new Date(), 20);
}

export async function compileFor(ctx: AppContext, issue: Issue, locale: 'fr' | 'en' = ctx.config.defaultLocale): Promise<CompiledIssue> {
  const announcements = await announcementsByIds(ctx.db, issue.announcementIds);
  const resources = await resourcesByIds(ctx.db, issue.resourceIds);
  return compileIssue(
    { id: issue.id, kind: issue.kind, subject: issue.subject, introduction: issue.introduction, announcements, resources },
    { instanceName: ctx.config.instanceName, publicUrl: ctx.config.publicUrl, branding: await loadBranding(ctx.db), locale },
  );
}

/** Sends the issue to one address (the editor's own), without recording a delivery. */
export async function sendTest(ctx: AppContext, id: string, to: string): Promise<void> {
  if (!isValidEmail(to)) throw new AppError('validation_failed', 'The test address is not valid.', { field: 'to' });
  const issue = await requireIssue(ctx.db, id);
  const compiled = await compileFor(ctx, issue);
  const mailer = getMailer(ctx);
  const message = await buildMessage(
    ctx,
    issue,
    compiled,
    {
      subscriberId: crypto.randomUUID(),
      email: to,
      name: null,
      language: ctx.config.defaultLocale,
      subscriberStatus: 'active',
      sources: [],
      networks: [],
      attempts: 1,
      bounceCount: 0,
    },
    await mailer.sender(),
  );
  message.to = formatAddress(to);
  message.subject = `[TEST] ${message.subject}`;
  // Built again by the transport with the test address and subject.
  delete message.prebuilt;
  try {
    await mailer.send(message);
  } catch (error) {
    if (error instanceof MailSendError)
      throw new AppError('unavailable', `The mail server did not take the test message: ${error.message}`);
    throw error;
  }
}

/**
 * Starts sending now. The HTML must stay under 100 KB (mail programs cut longer messages) unless
 * the editor confirmed. Returns the number of recipients.
 */
export async function startSending(ctx: AppContext, id: string, options: { confirmOversize?: boolean } = {}): Promise<Issue> {
  const issue = await requireIssue(ctx.db, id);
  if (issue.status !== 'draft' && issue.status !== 'scheduled') {
    throw new AppError('conflict', `This issue is ${issue.status}: it cannot be sent again.`);
  }
  if (issue.kind === 'manual' && issue.announcementIds.length === 0 && issue.resourceIds.length === 0 && issue.introduction.trim() === '') {
    throw new AppError('validation_failed', 'The issue is empty: write an introduction or choose announcements or resources.');
  }
  // Compiling is CPU work only: done before the transaction, which must stay short.
  const compiled = await compileFor(ctx, issue);
  const allowOversize = issue.allowOversize || options.confirmOversize === true;
  if (compiled.htmlBytes > MAX_HTML_BYTES && !allowOversize) {
    throw new AppError(
      'payload_too_large',
      `This issue weighs ${Math.round(compiled.htmlBytes / 1024)} KB, over the ${MAX_HTML_BYTES / 1024} KB that mail programs show in full: remove announcements, or confirm to send anyway.`,
      { htmlBytes: compiled.htmlBytes },
    );
  }
  const filter = issue.kind === 'manual' ? {} : await digestAudience(ctx, issue);
  return ctx.db.transaction().execute(async (trx) => {
    const locked = await findIssue(trx, id, true);
    if (!locked || (locked.status !== 'draft' && locked.status !== 'scheduled')) {
      throw new AppError('conflict', 'This issue is already being sent.');
    }
    const total = await createDeliveries(trx, id, filter);
    const updated = await updateIssue(trx, id, {
      status: 'sending',
      startedAt: new Date(),
      total,
      htmlBytes: compiled.htmlBytes,
      allowOversize,
      ...(total === 0 ? { status: 'sent' as const, finishedAt: new Date() } : {}),
    });
    if (total > 0) await ctx.queue.send(SEND_QUEUE, { issueId: id }, { trx });
    return updated!;
  });
}

/** Who a digest may concern: the sources of its announcements, plus 'resources' when it has some. */
async function digestAudience(ctx: AppContext, issue: Issue) {
  const covered = coverage(await announcementsByIds(ctx.db, issue.announcementIds), await loadAudienceSettings(ctx.db));
  const hasResources = (await resourcesByIds(ctx.db, issue.resourceIds)).length > 0;
  return {
    frequency: issue.kind === 'alert' ? ('alert' as const) : (issue.kind as 'weekly' | 'monthly'),
    sources: hasResources && !covered.sources.includes('resources') ? [...covered.sources, 'resources' as const] : covered.sources,
    networks: covered.networks,
  };
}

export async function schedule(db: Executor, id: string, at: Date): Promise<Issue> {
  if (Number.isNaN(at.getTime()) || at.getTime() < Date.now() - 60_000)
    throw new AppError('validation_failed', 'Choose a date in the future.');
  const updated = await updateIssue(db, id, { status: 'scheduled', scheduledAt: at }, ['draft', 'scheduled']);
  if (!updated) throw new AppError('conflict', 'Only a draft can be scheduled.');
  return updated;
}

export async function pause(db: Executor, id: string): Promise<Issue> {
  const updated = await updateIssue(db, id, { status: 'paused' }, ['sending']);
  if (!updated) throw new AppError('conflict', 'Only an issue being sent can be paused.');
  return updated;
}

export async function resume(ctx: AppContext, id: string): Promise<Issue> {
  return ctx.db.transaction().execute(async (trx) => {
    const updated = await updateIssue(trx, id, { status: 'sending' }, ['paused']);
    if (!updated) throw new AppError('conflict', 'Only a paused issue can be resumed.');
    await ctx.queue.send(SEND_QUEUE, { issueId: id }, { trx });
    return updated;
  });
}

export async function cancel(ctx: AppContext, id: string): Promise<Issue> {
  return ctx.db.transaction().execute(async (trx) => {
    const updated = await updateIssue(trx, id, { status: 'cancelled', finishedAt: new Date() }, [
      'draft',
      'scheduled',
      'sending',
      'paused',
    ]);
    if (!updated) throw new AppError('conflict', 'This issue can no longer be cancelled.');
    await skipRemaining(trx, id);
    return updated;
  });
}

export { type Progress, progress } from './newsletters.progress.ts';
