// What comments can answer: published announcements and resources (local or received), looked up
// by id (local API and pages) or by ActivityPub id (a received reply's inReplyTo).
import type { Executor } from '../core/events.ts';

type Db = Executor;

export interface CommentTarget {
  kind: 'announcement' | 'resource';
  id: string;
  ap_id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findAnnouncementTarget(db: Db, by: { id: string } | { apId: string }): Promise<CommentTarget | undefined> {
  if ('id' in by && !UUID.test(by.id)) return undefined;
  let q = db.selectFrom('announcements').select(['id', 'ap_id']).where('status', '=', 'published').where('deleted_at', 'is', null);
  q = 'id' in by ? q.where('id', '=', by.id) : q.where('ap_id', '=', by.apId);
  const row = await q.executeTakeFirst();
  return row ? { kind: 'announcement', ...row } : undefined;
}

export async function findResourceTarget(db: Db, by: { id: string } | { apId: string }): Promise<CommentTarget | undefined> {
  if ('id' in by && !UUID.test(by.id)) return undefined;
  let q = db.selectFrom('resources').select(['id', 'ap_id']).where('status', '=', 'published');
  q = 'id' in by ? q.where('id', '=', by.id) : q.where('ap_id', '=', by.apId);
  const row = await q.executeTakeFirst();
  return row ? { kind: 'resource', ...row } : undefined;
}
