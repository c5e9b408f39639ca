// Browsing and searching the library. The query is accent-folded by the caller (like the index)
// and parsed by websearch_to_tsquery('french'), so "contrats" finds "contrat", quoted phrases and
// -exclusions work, and no input can make the SQL fail. The GIN index serves the match.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { ResourceRow } from './resources.repository.ts';
import type { Audience } from './resources.tables.ts';

type Db = Kysely<Database>;

export interface SearchFilters {
  /** Accent-folded query; empty means browse. */
  q?: string;
  /** 'local' or a network handle (name@host) of a remote network. */
  network?: string;
  tag?: string;
  audience?: Audience;
  licence?: string;
  format?: string;
  /** Include unpublished resources (editors' list). */
  includeUnpublished?: boolean;
  limit: number;
  offset: number;
}

export interface SearchPage {
  items: ResourceRow[];
  total: number;
}

export async function searchResources(db: Db, f: SearchFilters): Promise<SearchPage> {
  const q = f.q?.trim() ?? '';
  let query = db.selectFrom('resources');
  if (!f.includeUnpublished) query = query.where('status', '=', 'published');
  if (q) query = query.where(sql<boolean>`search_vector @@ websearch_to_tsquery('french', ${q})`);
  if (f.network === 'local') query = query.where('origin', '=', 'local');
  else if (f.network) query = query.where('network_handle', '=', f.network);
  if (f.tag) query = query.where(sql<boolean>`tags @> array[${f.tag}]::text[]`);
  if (f.audience) query = query.where('audience', '=', f.audience);
  if (f.licence) query = query.where('licence', '=', f.licence);
  if (f.format) query = query.where(sql<boolean>`formats @> array[${f.format}]::text[]`);

  const rows = await query
    .select([
      'id',
      'ap_id as apId',
      'origin',
      'actor_id as actorId',
      'network_name as networkName',
      'network_handle as networkHandle',
      'author_user_id as authorUserId',
      'author_name as authorName',
      'title',
      'description_markdown as descriptionMarkdown',
      'description_html as descriptionHtml',
      'summary',
      'link_url as linkUrl',
      'url',
      'tags',
      'audience',
      'language',
      'licence',
      'formats',
      'status',
      'published_at as publishedAt',
      'created_at as createdAt',
      'updated_at as updatedAt',
      sql<number>`count(*) over ()`.as('total'),
    ])
    .$if(q !== '', (qb) => qb.orderBy(sql`ts_rank_cd(search_vector, websearch_to_tsquery('french', ${q}))`, 'desc'))
    .orderBy('published_at', 'desc')
    .orderBy('id')
    .limit(f.limit)
    .offset(f.offset)
    .execute();
  const total = rows.length > 0 ? Number(rows[0]!.total) : f.offset > 0 ? await countOnly(db, f) : 0;
  return { items: rows.map(({ total: _t, ...row }) => row), total };
}

/** The total when the page asked for is past the end (the window count is then unavailable). */
async function countOnly(db: Db, f: SearchFilters): Promise<number> {
  const page = await searchResources(db, { ...f, limit: 1, offset: 0 });
  return page.total;
}

/** Plain substring scan, the baseline of the benchmark (no index can serve it). */
export async function scanResources(db: Db, needle: string, limit: number): Promise<number> {
  const rows = await db
    .selectFrom('resources')
    .select('id')
    .where('status', '=', 'published')
    .where((eb) => eb.or([eb('title', 'ilike', `%${needle}%`), eb('summary', 'ilike', `%${needle}%`)]))
    .orderBy('published_at', 'desc')
    .limit(limit)
    .execute();
  return rows.length;
}

export interface Facets {
  tags: Array<{ value: string; count: number }>;
  networks: Array<{ handle: string; name: string; count: number }>;
}

/** The most used tags and the networks present, for the browse links. */
export async function facets(db: Db): Promise<Facets> {
  const tags = await sql<{ value: string; count: number }>`
    select t as value, count(*)::int as count
    from resources, unnest(tags) as t
    where status = 'published'
    group by t order by count(*) desc, t limit 30`.execute(db);
  const networks = await db
    .selectFrom('resources')
    .select(['network_handle as handle', 'network_name as name', sql<number>`count(*)::int`.as('count')])
    .where('status', '=', 'published')
    .where('origin', '=', 'remote')
    .groupBy(['network_handle', 'network_name'])
    .orderBy('network_name')
    .execute();
  return {
    tags: tags.rows,
    networks: networks.filter((n) => n.handle !== null).map((n) => ({ handle: n.handle!, name: n.name ?? n.handle!, count: n.count })),
  };
}
