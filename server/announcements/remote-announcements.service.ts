// Announcements received from other networks (the federation inbox calls these). What a remote
// server sends is never trusted: the HTML is sanitized, lengths are clamped, tags normalised, and
// only the actor that created an announcement may change or delete it.
import { AppError } from '../core/errors.ts';
import type { DomainEvents, Executor } from '../core/events.ts';
import { sanitizeRemoteHtml, toPlainText, truncate } from '../core/sanitize.ts';
import { publishRealtime } from '../realtime/realtime.publish.ts';
import { isHttpUrl, LIMITS, normalizeTag } from './announcements.domain.ts';
import './announcements.events.ts';
import {
  getAnnouncementByApId,
  insertAnnouncementIfNew,
  markAnnouncementDeleted,
  updateAnnouncementRow,
} from './announcements.repository.ts';
import { liveSummary } from './announcements.service.ts';

export interface RemoteAnnouncementInput {
  apId: string;
  url: string;
  actorId: string;
  networkName: string;
  networkHandle: string;
  title: string;
  summary: string;
  contentHtml: string;
  imageUrl?: string | null;
  imageAlt?: string | null;
  tags: string[];
  publishedAt: Date;
  updatedAt?: Date;
}

/** Remote HTML larger than this is cut before sanitizing (the sanitizer closes what the cut opened). */
const MAX_REMOTE_HTML = 200_000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are removed on purpose.
const CONTROL = /[\u0000-\u001f\u007f]/g;

function oneLine(text: string, max: number): string {
  return truncate(text.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim(), max);
}

function validDate(date: Date | undefined): Date | undefined {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date : undefined;
}

function cleanValues(input: RemoteAnnouncementInput) {
  const contentHtml = sanitizeRemoteHtml(input.contentHtml.slice(0, MAX_REMOTE_HTML));
  // The summary may come as HTML (ActivityPub's summary is HTML): keep its text only.
  const summary = toPlainText(input.summary ?? '', LIMITS.summary) || toPlainText(contentHtml, LIMITS.generatedSummary);
  const title = oneLine(toPlainText(input.title ?? '', LIMITS.title * 2), LIMITS.title) || oneLine(summary, 80) || '(sans titre)';
  const imageUrl = input.imageUrl && input.imageUrl.length <= LIMITS.imageUrl && isHttpUrl(input.imageUrl) ? input.imageUrl : null;
  const tags: string[] = [];
  for (const raw of input.tags ?? []) {
    const tag = typeof raw === 'string' ? normalizeTag(raw) : null;
    if (tag && !tags.includes(tag) && tags.length < LIMITS.tags) tags.push(tag);
  }
  const publishedAt = validDate(input.publishedAt) ?? new Date();
  return {
    title,
    summary,
    summary_auto: false,
    content_html: contentHtml,
    url: isHttpUrl(input.url) ? input.url.slice(0, 2000) : input.apId,
    network_name: oneLine(input.networkName || input.networkHandle, 200),
    network_handle: oneLine(input.networkHandle, 300),
    image_url: imageUrl,
    image_alt: imageUrl ? oneLine(input.imageAlt ?? '', LIMITS.imageAlt) || null : null,
    tags,
    published_at: publishedAt,
    // For a remote announcement, updated_at is the time its author last changed it: an update
    // older than the stored one (activities can arrive out of order) is ignored.
    updated_at: validDate(input.updatedAt) ?? publishedAt,
  };
}

/** Store or update an announcement received from `input.actorId`. */
export async function upsertRemoteAnnouncement(
  trx: Executor,
  input: RemoteAnnouncementInput,
  events?: DomainEvents,
): Promise<{ id: string; created: boolean }> {
  if (!isHttpUrl(input.apId) || input.apId.length > 2000) throw new AppError('bad_request', 'The announcement id must be an http(s) URL.');
  const values = cleanValues(input);
  // Most received announcements are new: one statement stores them; a known one is then read.
  const inserted = await insertAnnouncementIfNew(trx, {
    ...values,
    ap_id: input.apId,
    origin: 'remote',
    actor_id: input.actorId,
    body_markdown: null,
    status: 'published',
  });
  if (inserted) {
    await events?.publish(trx, 'announcement.received', { id: inserted.id });
    await publishRealtime(trx, 'announcements', liveSummary(inserted, 'published'));
    return { id: inserted.id, created: true };
  }
  const existing = await getAnnouncementByApId(trx, input.apId);
  if (existing?.origin !== 'remote' || existing.actor_id !== input.actorId) {
    throw new AppError('forbidden', 'This announcement belongs to another actor.');
  }
  // A deleted one stays deleted; an older version does not overwrite a newer one.
  if (existing.deleted_at || values.updated_at < existing.updated_at) return { id: existing.id, created: false };
  const row = await updateAnnouncementRow(trx, existing.id, values);
  await publishRealtime(trx, 'announcements', liveSummary(row, 'updated'));
  return { id: row.id, created: false };
}

/** Delete (as a tombstone) the announcement `apId`; false when there was nothing to delete. */
export async function deleteRemoteAnnouncement(trx: Executor, apId: string, actorId: string): Promise<boolean> {
  const existing = await getAnnouncementByApId(trx, apId);
  if (!existing) return false;
  if (existing.origin !== 'remote' || existing.actor_id !== actorId) {
    throw new AppError('forbidden', 'This announcement belongs to another actor.');
  }
  if (existing.deleted_at) return false;
  await markAnnouncementDeleted(trx, existing.id, new Date());
  await publishRealtime(trx, 'announcements', { type: 'deleted', id: existing.id });
  return true;
}
