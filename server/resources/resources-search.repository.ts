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
  /** True when more resources match than were counted (searches stop at MAX_MATCHES). */
  totalCapped: boolean;
}

/**
 * A search ranks at most this many matches, the most recent ones. A vague query ("contrat") can
 * match half the library: ranking every match would cost a full pass over them, while the most
 * recent 500 are found by walking the date index and hold far more than anyone pages through.
 * A precise query is served by the GIN index instead; PostgreSQL picks from its statistics.
 */
export const MAX_MATCHES = 500;

const COLUMNS = sql.raw(
  [
    'r.id',
    'r.ap_id as "apId"',
    'r.origin',
    'r.actor_id as "actorId"',
    'r.network_name as "networkName"',
    'r.network_handle as "networkHandle"',
    'r.author_user_id as "authorUserId"',
    'r.author_name as "authorName"',
    'r.title',
    'r.description_markdown as "descriptionMarkdown"',
    'r.description_html as "descriptionHtml"',
    'r.summary',
    'r.link_url as "linkUrl"',
    'r.url',
    'r.tags',
    'r.audience',
    'r.language',
    'r.licence',
    'r.formats',
    'r.status',
    'r.published_at as "publishedAt"',
    'r.created_at as "createdAt"',
    'r.updated_at as "updatedAt"',
  ].join(', '),
);

function conditions(f: SearchFilters) {
  const conds = [sql<boolean>`true`];
  if (!f.includeUnpublished) conds.push(sql<boolean>`status = 'published'`);
  if (f.network === 'local') conds.push(sql<boolean>`origin = 'local'`);
  else if (f.network) conds.push(sql<boolean>`network_handle = ${f.network}`);
  if (f.tag) conds.push(sql<boolean>`tags @> array[${f.tag}]::text[]`);
  if (f.audience) conds.push(sql<boolean>`audience = ${f.audience}`);
  if (f.licence) conds.push(sql<boolean>`licence = ${f.licence}`);
  if (f.format) conds.push(sql<boolean>`formats @> array[${f.format}]::text[]`);
  return sql.join(conds, sql` and `);
}

export async function searchResources(db: Db, f: SearchFilters): Promise<SearchPage> {
  const q = f.q?.trim() ?? '';
  const where = conditions(f);
  if (q === '') {
    const rows = await sql<ResourceRow>`select ${COLUMNS} from resources r where ${where}
      order by r.published_at desc, r.id limit ${f.limit} offset ${f.offset}`.execute(db);
    const count = await sql<{ n: number }>`select count(*)::int as n from resources where ${where}`.execute(db);
    return { items: rows.rows, total: count.rows[0]?.n ?? 0, totalCapped: false };
  }
  const query = sql`websearch_to_tsquery('french', ${q})`;
  // Rank the candidates, keep the page, and only then read the page's full rows.
  const rows = await sql<ResourceRow & { total: number }>`
    with c as materialized (
      select id, published_at, search_vector from resources
      where ${where} and search_vector @@ ${query}
      order by published_at desc limit ${MAX_MATCHES}
    ), top as (
      select id, published_at, ts_rank_cd(search_vector, ${query}) as rank from c
      order by rank desc, published_at desc, id limit ${f.limit} offset ${f.offset}
    )
    select ${COLUMNS}, (select count(*)::int from c) as total
    from top join resources r on r.id = top.id
    order by top.rank desc, top.published_at desc, top.id`.execute(db);
  let total = rows.rows[0]?.total;
  if (total === undefined) {
    const count = await sql<{ n: number }>`select count(*)::int as n from (select 1 from resources
      where ${where} and search_vector @@ ${query} limit ${MAX_MATCHES}) m`.execute(db);
    total = count.rows[0]?.n ?? 0;
  }
  return { items: rows.rows.map(({ total: _t, ...row }) => row as ResourceRow), total, totalCapped: total >= MAX_MATCHES };
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
