// Writing local announcements: create, edit, delete. Each change that the public can see publishes
// its domain event (federation and newsletters subscribe) and a live message, inside the caller's
// transaction, so they happen with the change or not at all.
import crypto from 'node:crypto';
import type { Config } from '../config.ts';
import { AppError } from '../core/errors.ts';
import type { DomainEvents, Executor } from '../core/events.ts';
import type { Database } from '../db/schema.ts';
import { publishRealtime } from '../realtime/realtime.publish.ts';
import { type AnnouncementInput, type PreparedAnnouncement, prepareAnnouncement } from './announcements.domain.ts';
import './announcements.events.ts';
import type { Kysely } from 'kysely';
import {
  type AnnouncementRow,
  getAnnouncementById,
  insertAnnouncement,
  markAnnouncementDeleted,
  removeAnnouncementRow,
  updateAnnouncementRow,
} from './announcements.repository.ts';

export interface AnnouncementDeps {
  config: Pick<Config, 'publicUrl'>;
  events: DomainEvents;
}

type Db = Kysely<Database>;

/** The public page of a local announcement, which is also its ActivityPub id. */
export function localAnnouncementUrl(publicUrl: string, id: string): string {
  return `${publicUrl}/announcements/${id}`;
}

/** What a live page needs to show a new announcement: ids, title, where to read it. */
export function liveSummary(row: AnnouncementRow, type: 'published' | 'updated'): Record<string, unknown> {
  return {
    type,
    id: row.id,
    title: row.title,
    url: `/announcements/${row.id}`,
    origin: row.origin,
    networkName: row.network_name,
    networkHandle: row.network_handle,
    publishedAt: row.published_at?.toISOString() ?? null,
  };
}

function prepared(row: AnnouncementRow): PreparedAnnouncement {
  return {
    title: row.title,
    summary: row.summary,
    summaryAuto: row.summary_auto,
    bodyMarkdown: row.body_markdown ?? '',
    contentHtml: row.content_html,
    imageUrl: row.image_url,
    imageAlt: row.image_alt,
    tags: row.tags,
    status: row.status,
  };
}

function columns(p: PreparedAnnouncement) {
  return {
    title: p.title,
    summary: p.summary,
    summary_auto: p.summaryAuto,
    body_markdown: p.bodyMarkdown,
    content_html: p.contentHtml,
    image_url: p.imageUrl,
    image_alt: p.imageAlt,
    tags: p.tags,
    status: p.status,
  };
}

export async function createAnnouncement(
  trx: Executor,
  deps: AnnouncementDeps,
  author: { id: string } | null,
  input: AnnouncementInput,
): Promise<AnnouncementRow> {
  const values = prepareAnnouncement(input);
  const id = crypto.randomUUID();
  const url = localAnnouncementUrl(deps.config.publicUrl, id);
  const now = new Date();
  const row = await insertAnnouncement(trx, {
    id,
    ap_id: url,
    url,
    origin: 'local',
    author_user_id: author?.id ?? null,
    ...columns(values),
    published_at: values.status === 'published' ? now : null,
    created_at: now,
    updated_at: now,
  });
  if (row.status === 'published') await announcePublished(trx, deps, row);
  return row;
}

/** The local announcement `id`, for editing: not found, gone, or not ours are refused. */
async function editable(trx: Executor, id: string): Promise<AnnouncementRow> {
  const row = await getAnnouncementById(trx, id);
  if (!row) throw new AppError('not_found', 'No announcement with this id.');
  if (row.origin !== 'local') throw new AppError('forbidden', 'An announcement received from another network cannot be changed here.');
  if (row.deleted_at) throw new AppError('gone', 'This announcement was deleted.');
  return row;
}

export async function updateAnnouncement(
  trx: Executor,
  deps: AnnouncementDeps,
  id: string,
  input: AnnouncementInput,
): Promise<AnnouncementRow> {
  const current = await editable(trx, id);
  const values = prepareAnnouncement(input, prepared(current));
  const now = new Date();
  const firstPublication = current.status === 'draft' && values.status === 'published';
  const row = await updateAnnouncementRow(trx, id, {
    ...columns(values),
    published_at: firstPublication ? now : current.published_at,
    updated_at: now,
  });
  if (firstPublication) await announcePublished(trx, deps, row);
  else if (row.status === 'published') {
    await deps.events.publish(trx, 'announcement.updated', { id: row.id });
    await publishRealtime(trx, 'announcements', liveSummary(row, 'updated'));
  }
  return row;
}

export async function deleteAnnouncement(trx: Executor, deps: AnnouncementDeps, id: string): Promise<void> {
  const current = await editable(trx, id);
  if (current.status === 'draft') {
    await removeAnnouncementRow(trx, id);
    return;
  }
  await markAnnouncementDeleted(trx, id, new Date());
  await deps.events.publish(trx, 'announcement.deleted', { id, apId: current.ap_id });
  await publishRealtime(trx, 'announcements', { type: 'deleted', id });
}

async function announcePublished(trx: Executor, deps: AnnouncementDeps, row: AnnouncementRow): Promise<void> {
  await deps.events.publish(trx, 'announcement.published', { id: row.id });
  await publishRealtime(trx, 'announcements', liveSummary(row, 'published'));
}

/**
 * The announcement a reader asked for: drafts only for editors (`canSeeDrafts`), a deleted one is
 * gone (410), an unknown one not found (404).
 */
export async function readableAnnouncement(db: Db, id: string, canSeeDrafts: boolean): Promise<AnnouncementRow> {
  const row = await getAnnouncementById(db, id);
  if (!row || (row.status === 'draft' && !canSeeDrafts)) throw new AppError('not_found', 'No announcement with this id.');
  if (row.deleted_at) throw new AppError('gone', 'This announcement was deleted.');
  return row;
}
