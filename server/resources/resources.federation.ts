// Local resources sent to the followers of this instance as ActivityPub Documents: Create when one
// is published, Update when it changes, Delete when it is unpublished or deleted. The Document
// carries the name, a summary, the description with a readable licence line, the public page, the
// current files as attached Documents (type, name, address), the tags and the schema.org licence.
// Handlers run in the publisher's transaction and only record a delivery job (federation's
// `enqueueToFollowers`): a slow or failing network never fails the editor's action.
// The same Document answers `GET /resources/:id` asked for as activity+json.
import { Create, Document, Hashtag, PUBLIC_COLLECTION, Update } from '@fedify/vocab';
import { preloadedContexts, type RemoteDocument } from '@fedify/vocab-runtime';
import { Temporal } from '@js-temporal/polyfill';
import type { Executor } from '../core/events.ts';
import { deleteOf, newActivityId, toJson, type Urls } from '../federation/activities.ts';
import { enqueueToFollowers } from '../federation/delivery.ts';
import type { FederationRuntime } from '../federation/runtime.ts';
import { escapeHtml } from '../web/html.ts';
import { findLicence, licenceName } from './licences.ts';
import { findResource, listFiles, type ResourceRow } from './resources.repository.ts';
import { currentVersions } from './resources.service.ts';
import './resources.events.ts';

type Instant = NonNullable<ConstructorParameters<typeof Document>[0]['published']>;
const instant = (date: Date): Instant => Temporal.Instant.from(date.toISOString()) as unknown as Instant;

/** schema.org's `license`, which ActivityStreams lacks: declared in the context so JSON-LD keeps it. */
const LICENSE_CONTEXT = { schema: 'http://schema.org#', license: { '@id': 'schema:license', '@type': '@id' } };

function licenceLine(r: ResourceRow): string {
  const licence = findLicence(r.licence);
  const name = escapeHtml(licenceName(r.licence, 'fr'));
  const named = licence?.url ? `<a href="${escapeHtml(licence.url)}" rel="license">${name}</a>` : name;
  return `<p>Licence : ${named} — ${escapeHtml(r.authorName)}</p>`;
}

export async function documentOf(db: Executor, r: ResourceRow, urls: Urls): Promise<Document> {
  const files = currentVersions(await listFiles(db, r.id));
  const published = r.publishedAt;
  return new Document({
    id: new URL(r.apId),
    attribution: urls.actor,
    name: r.title,
    summary: r.summary || null,
    content: `${r.descriptionHtml}${licenceLine(r)}${r.linkUrl ? `<p><a href="${escapeHtml(r.linkUrl)}">${escapeHtml(r.linkUrl)}</a></p>` : ''}`,
    mediaType: 'text/html',
    url: new URL(r.url),
    published: instant(published),
    updated: r.updatedAt.getTime() - published.getTime() > 1000 ? instant(r.updatedAt) : null,
    to: PUBLIC_COLLECTION,
    cc: urls.followers,
    attachments: files.map(
      (f) =>
        new Document({
          name: f.name,
          mediaType: f.mediaType.split(';')[0]!,
          url: new URL(f.remoteUrl ?? `${urls.publicUrl}/resources/${r.id}/files/${f.id}`),
        }),
    ),
    tags: r.tags.map((tag) => new Hashtag({ name: `#${tag}`, href: new URL(`/resources?tag=${encodeURIComponent(tag)}`, urls.publicUrl) })),
  });
}

// Compaction with the contexts Fedify ships only: no network I/O (safe inside a transaction).
async function localContextLoader(url: string): Promise<RemoteDocument> {
  const document = preloadedContexts[url];
  if (document === undefined) throw new Error(`Context ${url} is not preloaded`);
  return { contextUrl: null, documentUrl: url, document };
}

/** The Document as JSON-LD with its schema.org licence. */
export async function documentJson(db: Executor, r: ResourceRow, urls: Urls): Promise<Record<string, unknown>> {
  const document = await documentOf(db, r, urls);
  const json = (await document.toJsonLd({ format: 'compact', contextLoader: localContextLoader })) as Record<string, unknown>;
  return withLicence(json, r, (j) => j);
}

function withLicence(
  json: Record<string, unknown>,
  r: ResourceRow,
  target: (json: Record<string, unknown>) => Record<string, unknown>,
): Record<string, unknown> {
  const context = json['@context'];
  json['@context'] = [...(Array.isArray(context) ? context : context ? [context] : []), LICENSE_CONTEXT];
  const url = findLicence(r.licence)?.url;
  if (url) target(json).license = url;
  return json;
}

async function activityJson(
  db: Executor,
  r: ResourceRow,
  rt: FederationRuntime,
  kind: 'create' | 'update',
): Promise<Record<string, unknown>> {
  const document = await documentOf(db, r, rt.urls);
  const common = {
    id: newActivityId(rt.urls.publicUrl),
    actor: rt.urls.actor,
    object: document,
    to: PUBLIC_COLLECTION,
    cc: rt.urls.followers,
  };
  const activity =
    kind === 'create'
      ? new Create({ ...common, published: document.published })
      : new Update({ ...common, updated: document.updated ?? instant(new Date()) });
  return withLicence(await toJson(activity), r, (json) => json.object as Record<string, unknown>);
}

export function subscribeResourcesFederation(rt: FederationRuntime): void {
  const { events } = rt.app;
  events.on('resource.published', async ({ id }, trx) => {
    const row = await findResource(trx, id);
    if (row?.origin !== 'local' || row.status !== 'published') return;
    await enqueueToFollowers(rt, trx, await activityJson(trx, row, rt, 'create'));
  });
  events.on('resource.updated', async ({ id }, trx) => {
    const row = await findResource(trx, id);
    if (row?.origin !== 'local' || row.status !== 'published') return;
    await enqueueToFollowers(rt, trx, await activityJson(trx, row, rt, 'update'));
  });
  events.on('resource.deleted', async ({ apId }, trx) => {
    await enqueueToFollowers(rt, trx, await toJson(deleteOf(apId, rt.urls)));
  });
}
