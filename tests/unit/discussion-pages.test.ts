// Pure parts of the discussion pages: the reply tree (nesting capped at depth 8, held posts shown
// to their author and moderators only), the redirects after a form (never to another site), the
// live topics visitors may follow, and the French plurals.
import { describe, expect, it } from 'vitest';
import { withDone } from '../../server/discussions/discussions.access.ts';
import { liveTopic } from '../../server/discussions/discussions.live.ts';
import { buildTree, countText, MAX_DEPTH, showsTo } from '../../server/discussions/discussions.views.ts';
import type { PostRow } from '../../server/discussions/posts.repository.ts';
import { isPublicTopic } from '../../server/realtime/realtime.publish.ts';

function post(id: number, parent?: number, status: PostRow['status'] = 'visible'): PostRow {
  const apId = `https://a.example/discussions/posts/${id}`;
  return {
    id: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
    ap_id: apId,
    url: apId,
    origin: 'local',
    author_ap_id: `https://a.example/ap/actors/p${id}`,
    author_member_id: null,
    author_name: `P${id}`,
    author_handle: `p${id}@a.example`,
    group_id: 'g',
    announcement_id: null,
    resource_id: null,
    in_reply_to: parent === undefined ? null : `https://a.example/discussions/posts/${parent}`,
    thread_id: null,
    depth: 0,
    title: null,
    content_html: '<p>x</p>',
    content_text: 'x',
    tags: [],
    mentions: [],
    visibility: 'public',
    status,
    reply_count: 0,
    published_at: new Date(0),
    updated_at: null,
    last_activity_at: new Date(0),
    created_at: new Date(0),
    visible_at: new Date(0),
  };
}

describe('the reply tree', () => {
  it('nests replies under their parent, and shows deeper ones after their parent at depth 8', () => {
    // A chain of 12 posts, each replying to the previous one, plus a second reply to the first.
    const chain = Array.from({ length: 12 }, (_, i) => post(i, i === 0 ? undefined : i - 1));
    const tree = buildTree([...chain.slice(0, 2), post(99, 0), ...chain.slice(2)]);
    expect(tree).toHaveLength(1);
    expect(tree[0]!.children.map((n) => n.post.author_name)).toEqual(['P1', 'P99']);
    let node = tree[0]!;
    const levels: number[] = [node.level];
    while (node.children.length > 0) {
      node = node.children[0]!;
      levels.push(node.level);
    }
    expect(levels).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // P8 is at depth 8: P9, P10, P11 follow it in the same list, at depth 8 too.
    const deepest = tree[0]!.children[0]!.children[0]!.children[0]!.children[0]!.children[0]!.children[0]!.children[0]!;
    expect(deepest.post.author_name).toBe('P7');
    expect(deepest.children.map((n) => [n.post.author_name, n.level])).toEqual([
      ['P8', MAX_DEPTH],
      ['P9', MAX_DEPTH],
      ['P10', MAX_DEPTH],
      ['P11', MAX_DEPTH],
    ]);
  });

  it('keeps a reply whose parent is not shown (an earlier page) at the top', () => {
    const tree = buildTree([post(5, 4), post(6, 5)]);
    expect(tree.map((n) => n.post.author_name)).toEqual(['P5']);
    expect(tree[0]!.children[0]!.level).toBe(1);
  });

  it('shows a held post only to its author and the moderators', () => {
    const held = post(1, undefined, 'held');
    expect(showsTo(held, { canModerate: false })).toBe(false);
    expect(showsTo(held, { canModerate: false, actorApId: 'https://a.example/ap/actors/p2' })).toBe(false);
    expect(showsTo(held, { canModerate: false, actorApId: 'https://a.example/ap/actors/p1' })).toBe(true);
    expect(showsTo(held, { canModerate: true })).toBe(true);
    expect(showsTo(post(2), { canModerate: false })).toBe(true);
  });
});

describe('redirects after a form', () => {
  it('adds the outcome and the anchor, and never leaves the site', () => {
    expect(withDone('/groups/rgpd', 'joined')).toBe('/groups/rgpd?done=joined');
    expect(withDone('/discussions/posts/x?page=2', 'replied', 'p-1')).toBe('/discussions/posts/x?page=2&done=replied#p-1');
    expect(withDone('//evil.example/x', 'joined')).toBe('/?done=joined');
    expect(withDone('https://evil.example/', 'joined')).toBe('/?done=joined');
  });
});

describe('live topics', () => {
  it('opens one topic per group, announcement and resource, and nothing else', () => {
    const id = '0d11ca03-1f38-4eeb-82a7-15ae297ee5a0';
    expect(isPublicTopic(liveTopic({ kind: 'group', id }))).toBe(true);
    expect(isPublicTopic(liveTopic({ kind: 'announcement', id }))).toBe(true);
    expect(isPublicTopic(liveTopic({ kind: 'resource', id }))).toBe(true);
    expect(isPublicTopic('announcements')).toBe(true);
    expect(isPublicTopic(`discussions.member.${id}`)).toBe(false);
    expect(isPublicTopic(`discussions.group.${id}x`)).toBe(false);
    expect(isPublicTopic('discussions.group.*')).toBe(false);
  });
});

describe('plurals', () => {
  it('says "aucune réponse", "1 réponse", "3 réponses"', () => {
    expect(countText('fr', 'dg.replies', 0)).toBe('aucune réponse');
    expect(countText('fr', 'dg.replies', 1)).toBe('1 réponse');
    expect(countText('fr', 'dg.replies', 3)).toBe('3 réponses');
    expect(countText('en', 'dg.members', 2)).toBe('2 members');
  });
});
