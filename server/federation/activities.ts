// The ActivityStreams shapes this instance sends: an announcement is an Article (Mastodon shows
// its name, summary and a link), wrapped in Create, Update or Delete (with a Tombstone); follows
// are Follow, Accept, Reject and Undo; relayed news is an Announce. Each activity gets a fresh id.
import crypto from 'node:crypto';
import {
  Accept,
  type Activity,
  Announce,
  Article,
  Create,
  Delete,
  Follow,
  Hashtag,
  PUBLIC_COLLECTION,
  Reject,
  Tombstone,
  Undo,
  Update,
} from '@fedify/vocab';
import { preloadedContexts, type RemoteDocument } from '@fedify/vocab-runtime';
import { Temporal } from '@js-temporal/polyfill';

export interface ArticleSource {
  id: string;
  ap_id: string;
  title: string;
  summary: string;
  content_html: string;
  url: string;
  tags: string[];
  published_at: Date | null;
  updated_at: Date;
}

export interface Urls {
  publicUrl: string;
  actor: URL;
  followers: URL;
}

type Instant = ConstructorParameters<typeof Article>[0]['published'];
export const instant = (date: Date): Instant => Temporal.Instant.from(date.toISOString()) as unknown as Instant;

export const newActivityId = (publicUrl: string): URL => new URL(`/ap/activities/${crypto.randomUUID()}`, publicUrl);

export function articleOf(a: ArticleSource, urls: Urls): Article {
  const published = a.published_at ?? a.updated_at;
  const updated = a.updated_at.getTime() - published.getTime() > 1000 ? a.updated_at : null;
  return new Article({
    id: new URL(a.ap_id),
    attribution: urls.actor,
    name: a.title,
    summary: a.summary,
    content: a.content_html,
    mediaType: 'text/html',
    url: new URL(a.url),
    published: instant(published),
    updated: updated ? instant(updated) : null,
    to: PUBLIC_COLLECTION,
    cc: urls.followers,
    tags: a.tags.map((tag) => new Hashtag({ name: `#${tag}`, href: new URL(`/tags/${encodeURIComponent(tag)}`, urls.publicUrl) })),
  });
}

export function createOf(article: Article, urls: Urls): Create {
  return new Create({
    id: newActivityId(urls.publicUrl),
    actor: urls.actor,
    object: article,
    published: article.published,
    to: PUBLIC_COLLECTION,
    cc: urls.followers,
  });
}

export function updateOf(article: Article, urls: Urls): Update {
  return new Update({
    id: newActivityId(urls.publicUrl),
    actor: urls.actor,
    object: article,
    updated: article.updated ?? instant(new Date()),
    to: PUBLIC_COLLECTION,
    cc: urls.followers,
  });
}

export function deleteOf(apId: string, urls: Urls): Delete {
  return new Delete({
    id: newActivityId(urls.publicUrl),
    actor: urls.actor,
    object: new Tombstone({ id: new URL(apId), deleted: instant(new Date()) }),
    to: PUBLIC_COLLECTION,
    cc: urls.followers,
  });
}

export function announceOf(objectId: string, urls: Urls): Announce {
  return new Announce({
    id: newActivityId(urls.publicUrl),
    actor: urls.actor,
    object: new URL(objectId),
    published: instant(new Date()),
    to: PUBLIC_COLLECTION,
    cc: urls.followers,
  });
}

/** Withdraws a relayed announcement (its author deleted it). */
export function undoAnnounceOf(objectId: string, urls: Urls): Undo {
  return new Undo({
    id: newActivityId(urls.publicUrl),
    actor: urls.actor,
    object: new Announce({ id: newActivityId(urls.publicUrl), actor: urls.actor, object: new URL(objectId) }),
    to: PUBLIC_COLLECTION,
    cc: urls.followers,
  });
}

export function followOf(target: string, urls: Urls): Follow {
  return new Follow({ id: newActivityId(urls.publicUrl), actor: urls.actor, object: new URL(target) });
}

export function undoFollowOf(target: string, followId: string, urls: Urls): Undo {
  return new Undo({
    id: newActivityId(urls.publicUrl),
    actor: urls.actor,
    object: new Follow({ id: new URL(followId), actor: urls.actor, object: new URL(target) }),
  });
}

export function acceptOf(follower: string, followId: string, urls: Urls): Accept {
  return new Accept({
    id: newActivityId(urls.publicUrl),
    actor: urls.actor,
    object: new Follow({ id: new URL(followId), actor: new URL(follower), object: urls.actor }),
  });
}

export function rejectOf(follower: string, followId: string, urls: Urls): Reject {
  return new Reject({
    id: newActivityId(urls.publicUrl),
    actor: urls.actor,
    object: new Follow({ id: new URL(followId), actor: new URL(follower), object: urls.actor }),
  });
}

// Compaction needs only the contexts Fedify ships with: no network I/O (safe inside a transaction).
async function localContextLoader(url: string): Promise<RemoteDocument> {
  const document = preloadedContexts[url];
  if (document === undefined) throw new Error(`Context ${url} is not preloaded`);
  return { contextUrl: null, documentUrl: url, document };
}

export async function toJson(activity: Activity): Promise<Record<string, unknown>> {
  return (await activity.toJsonLd({ format: 'compact', contextLoader: localContextLoader })) as Record<string, unknown>;
}
