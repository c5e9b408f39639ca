// Live updates of the discussion pages through the realtime hub (/live). A topic per context:
// `discussions.group.<id>` for a group (its page and its threads' pages), and
// `discussions.announcement.<id>` / `discussions.resource.<id>` for comments. Messages carry ids
// only, never content: the page then fetches the new post's HTML from
// /discussions/posts/:id/fragment, which checks who may read it like the thread page does. For a
// members-only group even the ids stay home: its topic only says "something new, reload", so a
// stranger following the topic learns nothing but that the group is active.
import type { AppContext } from '../core/context.ts';
import type { Executor } from '../core/events.ts';
import { addPublicTopicPattern, publishRealtime } from '../realtime/realtime.publish.ts';
import './discussions.events.ts';
import { findGroupById } from './groups.repository.ts';
import { findPostByApId, findPostById, type PostRow } from './posts.repository.ts';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
addPublicTopicPattern(new RegExp(`^discussions\\.(group|announcement|resource)\\.${UUID}$`));

export type LiveContext = { kind: 'group' | 'announcement' | 'resource'; id: string };

export function liveTopic(context: LiveContext): string {
  return `discussions.${context.kind}.${context.id}`;
}

function contextOf(post: PostRow): LiveContext | undefined {
  if (post.group_id) return { kind: 'group', id: post.group_id };
  if (post.announcement_id) return { kind: 'announcement', id: post.announcement_id };
  if (post.resource_id) return { kind: 'resource', id: post.resource_id };
  return undefined;
}

/** The topic and message for a change to `post`, or undefined when nothing may be said. */
async function messageFor(
  trx: Executor,
  post: PostRow,
  type: 'post' | 'removed',
): Promise<{ topic: string; data: Record<string, unknown> } | undefined> {
  const context = contextOf(post);
  if (!context) return undefined;
  const topic = liveTopic(context);
  if (post.group_id) {
    const group = await findGroupById(trx, post.group_id);
    if (!group) return undefined;
    if (group.visibility !== 'public' || post.visibility !== 'public') return { topic, data: { type: 'activity' } };
  } else if (post.visibility !== 'public') {
    return undefined;
  }
  const parent = post.in_reply_to ? await findPostByApId(trx, post.in_reply_to) : undefined;
  return {
    topic,
    data: {
      type,
      id: post.id,
      threadId: post.thread_id ?? post.id,
      parentId: parent?.id ?? null,
      depth: post.depth,
    },
  };
}

/** Subscribes to the discussion events: each visible new or approved post is announced live. */
export function registerDiscussionLive(ctx: AppContext): void {
  const announce = async ({ postId }: { postId: string }, trx: Executor) => {
    const post = await findPostById(trx, postId);
    if (post?.status !== 'visible') return;
    const message = await messageFor(trx, post, 'post');
    if (message) await publishRealtime(trx, message.topic, message.data);
  };
  ctx.events.on('discussion.post.created', announce);
  ctx.events.on('discussion.post.approved', announce);
  ctx.events.on('discussion.post.removed', async ({ postId }, trx) => {
    const post = await findPostById(trx, postId);
    if (!post) return;
    const message = await messageFor(trx, post, 'removed');
    if (message) await publishRealtime(trx, message.topic, message.data);
  });
}
