// Benchmark of the library search: 100,000 resources with French titles and descriptions, the
// French full-text search (tsvector + GIN, websearch_to_tsquery) against a plain ILIKE scan of the
// same rows, measured in the same run. On PGlite always; on PostgreSQL too when DATABASE_URL is set
// (a throw-away database is created on that server and dropped at the end).
// Usage: npm run bench:resources [-- --rows 100000 --runs 15]
import crypto from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { type DatabaseHandle, openDatabase } from '../server/db/database.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import { scanResources, searchResources } from '../server/resources/resources-search.repository.ts';
import { foldAccents } from '../server/resources/text.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const ROWS = arg('rows', 100_000);
const RUNS = arg('runs', 15);
const BATCH = 2000;

const SUBJECTS = [
  'contrat',
  'panier',
  'légumes',
  'distribution',
  'adhésion',
  'ferme',
  'charte',
  'assemblée générale',
  'bénévoles',
  'récolte',
  'semis',
  'maraîchage',
  'élevage',
  'fromage',
  'pain',
  'fruits',
  'compost',
  'association',
  'trésorerie',
  'assurance',
  'statuts',
  'convention',
  'formation',
  'installation paysanne',
  'foncier agricole',
  'circuit court',
  'saison',
  'calendrier',
  'recettes',
  'création',
  'budget',
  'comptabilité',
  'communication',
  'affiche',
  'livret d’accueil',
  'visite de ferme',
  'chantier collectif',
  'prix juste',
  'solidarité',
  'semences paysannes',
];
const PATTERNS = [
  'Modèle de {a} pour les AMAP',
  'Guide : {a} et {b}',
  'Fiche pratique — {a}',
  '{a} : mode d’emploi',
  'Comprendre {a}',
  'Outil de suivi des {a}',
  'Retour d’expérience sur {a} et {b}',
  'Kit {a} pour débuter',
  '{a} en AMAP : questions fréquentes',
];
const SENTENCES = [
  'Ce document présente {a} de façon simple pour les bénévoles.',
  'Il a été rédigé par le réseau avec des paysannes et des paysans.',
  'Vous y trouverez des exemples concrets sur {a} et {b}.',
  'À adapter selon la taille de votre AMAP et la saison.',
  'Les contrats d’engagement et les distributions y sont détaillés.',
  'Une version imprimable est proposée pour les assemblées générales.',
  'Merci de citer la source si vous le réutilisez.',
];
const QUERIES = [
  'contrats',
  'légumes',
  'creation association',
  'assemblée générale',
  'semences paysannes',
  'comptabilite',
  'visite ferme',
  'prix juste',
  'calendrier des saisons',
  'livret accueil',
  'fromages',
  'chantier',
  '"circuit court"',
  'assurance -statuts',
  'affiches',
];

let seed = 42;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
}
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const fill = (s: string) => s.replace('{a}', pick(SUBJECTS)).replace('{b}', pick(SUBJECTS));

function generate(n: number) {
  const rows = {
    id: [] as string[],
    title: [] as string[],
    summary: [] as string[],
    tags: [] as string[],
    fTitle: [] as string[],
    fTags: [] as string[],
    fDesc: [] as string[],
  };
  for (let i = 0; i < n; i++) {
    const title = `${fill(pick(PATTERNS))} (${i})`;
    const summary = Array.from({ length: 3 }, () => fill(pick(SENTENCES))).join(' ');
    const tags = [pick(SUBJECTS), pick(SUBJECTS)].join(',');
    rows.id.push(crypto.randomUUID());
    rows.title.push(title);
    rows.summary.push(summary);
    rows.tags.push(tags);
    rows.fTitle.push(foldAccents(title));
    rows.fTags.push(foldAccents(tags.replace(',', ' ')));
    rows.fDesc.push(foldAccents(summary));
  }
  return rows;
}

async function load(handle: DatabaseHandle): Promise<number> {
  const started = performance.now();
  for (let done = 0; done < ROWS; done += BATCH) {
    const r = generate(Math.min(BATCH, ROWS - done));
    // One statement per batch: unnest the arrays and build the same weighted vector as the repository.
    await sql`
      insert into resources (id, ap_id, url, origin, author_name, title, summary, description_html, tags, audience, licence, formats, search_vector, published_at)
      select id, 'https://bench.example/resources/' || id, 'https://bench.example/resources/' || id, 'local', 'Réseau', title, summary, '<p>' || summary || '</p>',
        string_to_array(tags, ','), 'everyone', 'cc-by-sa-4.0', '{document}',
        setweight(to_tsvector('french', ft), 'A') || setweight(to_tsvector('french', fg), 'B') || setweight(to_tsvector('french', fd), 'C'),
        now() - (random() * interval '1000 days')
      from unnest(${r.id}::uuid[], ${r.title}::text[], ${r.summary}::text[], ${r.tags}::text[], ${r.fTitle}::text[], ${r.fTags}::text[], ${r.fDesc}::text[])
        as t(id, title, summary, tags, ft, fg, fd)`.execute(handle.db);
  }
  await sql`analyze resources`.execute(handle.db);
  return performance.now() - started;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function measure(fn: (q: string) => Promise<unknown>): Promise<number[]> {
  for (const q of QUERIES.slice(0, 3)) await fn(q); // warm-up
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    for (const q of QUERIES) {
      const t0 = performance.now();
      await fn(q);
      times.push(performance.now() - t0);
    }
  }
  return times;
}

async function bench(label: string, handle: DatabaseHandle): Promise<void> {
  await migrateToLatest(handle.db);
  const loadMs = await load(handle);
  console.log(`\n${label}: ${ROWS.toLocaleString('en')} resources loaded in ${(loadMs / 1000).toFixed(1)} s`);
  const fts = await measure((q) => searchResources(handle.db, { q: foldAccents(q), limit: 20, offset: 0 }));
  // The baseline: what a naive search does, a substring scan on title and summary.
  const scan = await measure((q) => scanResources(handle.db, q.replace(/["-]/g, '').split(' ')[0]!, 20));
  const sample = await searchResources(handle.db, { q: foldAccents('contrats'), limit: 1, offset: 0 });
  const row = (name: string, t: number[]) =>
    `${name.padEnd(28)} p50 ${percentile(t, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(t, 95).toFixed(1).padStart(7)} ms`;
  console.log(row('full-text (french, GIN)', fts));
  console.log(row('ILIKE scan (baseline)', scan));
  console.log(
    `ratio ILIKE/full-text: p50 ×${(percentile(scan, 50) / percentile(fts, 50)).toFixed(1)}, p95 ×${(percentile(scan, 95) / percentile(fts, 95)).toFixed(1)}`,
  );
  console.log(`("contrats" matches ${sample.total.toLocaleString('en')} resources; ${QUERIES.length} queries × ${RUNS} runs)`);
}

async function main(): Promise<void> {
  console.log(`Resources search benchmark: ${ROWS.toLocaleString('en')} rows, ${QUERIES.length} French queries × ${RUNS} runs`);
  if (!process.argv.includes('--postgres-only')) {
    const pglite = await openDatabase({ databaseUrl: undefined, dataDir: '', memory: true });
    try {
      await bench('PGlite (in memory)', pglite);
    } finally {
      await pglite.close();
    }
  }
  const admin = process.env.DATABASE_URL;
  if (!admin) {
    console.log('\nPostgreSQL: skipped (set DATABASE_URL to a server where this user may create databases).');
    return;
  }
  const name = `amap_bench_${crypto.randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const postgres = await openDatabase({ databaseUrl: url.toString(), dataDir: '' });
  try {
    await bench('PostgreSQL', postgres);
  } finally {
    await postgres.close();
    if (process.argv.includes('--keep')) console.log(`(kept database ${name})`);
    else await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
