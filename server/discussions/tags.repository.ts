// The public posts carrying a hashtag (the page a #tag in a post links to: /groups?tag=...).
// Only visible posts of public contexts: a members-only group's posts never show here, even one
// written while the group was still public.
import { sql } from 'kysely';
import type { Executor } from '../core/events.ts';
import type { PostRow } from './posts.repository.ts';

export function listPublicPostsByTag(db: Executor, tag: string, limit: number): Promise<PostRow[]> {
  return db
    .selectFrom('discussion_posts as p')
    .leftJoin('discussion_groups as g', 'g.id', 'p.group_id')
    .selectAll('p')
    .where('p.status', '=', 'visible')
    .where('p.visibility', '=', 'public')
    .where((eb) => eb.or([eb('p.group_id', 'is', null), eb.and([eb('g.visibility', '=', 'public'), eb('g.deleted_at', 'is', null)])]))
    .where(sql<boolean>`${tag} = any(p.tags)`)
    .orderBy('p.published_at', 'desc')
    .orderBy('p.id', 'desc')
    .limit(limit)
    .execute();
}
