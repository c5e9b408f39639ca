// Mentions of people this instance has never seen (`@alice@autre.example`): their actor cannot be
// looked up inside the post's transaction (no network I/O there), so the post leaves without
// them, and this job, recorded in the same transaction, finds them by WebFinger (through the
// outbound guard, caching the actor like any other), then sends the post to them alone, with its
// Mention tags now complete so that their server notifies them. A handle that does not exist is
// skipped; an unreachable server makes the job try again later.

import { AppError } from '../core/errors.ts';
import type { Executor } from '../core/events.ts';
import { findGroupById } from '../discussions/groups.repository.ts';
import { findPostById, type PostRow } from '../discussions/posts.repository.ts';
import { toJson } from './activities.ts';
import { deliveryJobId } from './delivery.ts';
import { createNoteOf, updateNoteOf } from './discussions-activities.ts';
import { localUsernameOf, mentionsOf, noteOf } from './discussions-actors.ts';
import { enqueueToActors } from './discussions-outbox.ts';
import { resolveTarget } from './remote-actors.ts';
import type { FederationRuntime } from './runtime.ts';

export const MENTIONS_QUEUE = 'federation.discussions.mentions';

interface MentionsJob {
  postId: string;
  kind: 'create' | 'update';
  handles: string[];
}

/** The post's mentioned handles on other servers that `resolved` (names `@user@host`) lacks. */
export function unresolvedHandles(rt: FederationRuntime, post: PostRow, resolved: Array<{ name: string }>): string[] {
  const known = new Set(resolved.map((m) => m.name.replace(/^@/, '').toLowerCase()));
  return [
    ...new Set(
      post.mentions
        .map((m) => m.trim().replace(/^@/, '').toLowerCase())
        .filter((m) => /^[^@\s/]+@[^@\s/]+$/.test(m) && !m.endsWith(`@${rt.host}`) && !known.has(m)),
    ),
  ];
}

/** Record, inside `trx`, that these handles are to be found and told of the post. */
export async function enqueueMentionLookup(
  rt: FederationRuntime,
  trx: Executor,
  post: PostRow,
  kind: MentionsJob['kind'],
  handles: string[],
): Promise<void> {
  if (handles.length === 0) return;
  const id = deliveryJobId(`${post.ap_id}#${kind}#${post.updated_at?.toISOString() ?? ''}`, 'mentions');
  await rt.app.queue.send<MentionsJob>(MENTIONS_QUEUE, { postId: post.id, kind, handles }, { trx, id });
}

async function lookUp(rt: FederationRuntime, job: MentionsJob): Promise<void> {
  const found: string[] = [];
  for (const handle of job.handles) {
    try {
      found.push((await resolveTarget(rt, handle)).id);
    } catch (error) {
      // No such person, or a server we may not reach (private address): nobody to tell.
      if (error instanceof AppError && (error.code === 'not_found' || error.code === 'validation_failed')) continue;
      throw error; // unreachable for now: the job is tried again
    }
  }
  if (found.length === 0) return;
  await rt.app.db.transaction().execute(async (trx) => {
    const post = await findPostById(trx, job.postId);
    if (post?.status !== 'visible' || post.origin !== 'local') return;
    const username = localUsernameOf(rt, post.author_ap_id);
    const group = post.group_id ? await findGroupById(trx, post.group_id) : undefined;
    // A members-only post goes to the group only: it decides who reads it.
    if (!username || post.visibility !== 'public' || (post.group_id && !group)) return;
    const note = noteOf(rt, post, group, { mentions: await mentionsOf(rt, trx, post.mentions) });
    const activity = await toJson(job.kind === 'create' ? createNoteOf(rt, note) : updateNoteOf(rt, note));
    await enqueueToActors(rt, trx, found, activity, username);
  });
}

export function defineMentionLookup(rt: FederationRuntime): void {
  rt.app.queue.define<MentionsJob>({ name: MENTIONS_QUEUE, retryLimit: 8, retryDelay: 60, handler: (data) => lookUp(rt, data) });
}
