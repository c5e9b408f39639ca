// Signed fetches for discussions. Members-only groups serve their posts and their members list
// only to servers that host members, so those documents are fetched with an HTTP Signature made
// by this instance's network actor (draft-cavage, as Mastodon's authorized fetch): the other side
// checks who asks. Everything still goes through the outbound guard.
//
// The members of a remote group (its followers collection) are read page by page and kept for
// a short while: verifying an Announce, or deciding whether to serve a post, asks for them.
import crypto from 'node:crypto';
import type { RemoteDocument } from '@fedify/vocab-runtime';
import { preloadedContexts } from '@fedify/vocab-runtime';
import { GuardError } from './guard.ts';
import type { FederationRuntime } from './runtime.ts';

const ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"';

/** A GET of `url` signed by the network actor, through the guard. */
export async function signedGet(rt: FederationRuntime, url: string): Promise<Response> {
  const target = new URL(url);
  const keys = await rt.keys();
  const date = new Date().toUTCString();
  // The path without the query, as Mastodon and Fedify both sign and verify it.
  const requestTarget = `get ${target.pathname}`;
  const message = [`(request-target): ${requestTarget}`, `host: ${target.host}`, `date: ${date}`].join('\n');
  const key = crypto.KeyObject.from(keys.rsa.privateKey);
  const signature = crypto.sign('sha256', Buffer.from(message, 'utf8'), key).toString('base64');
  return rt.guard.fetch(target, {
    headers: {
      accept: ACCEPT,
      host: target.host,
      date,
      signature: `keyId="${rt.urls.keyId.href}",algorithm="rsa-sha256",headers="(request-target) host date",signature="${signature}"`,
    },
  });
}

/** A JSON-LD document loader for Fedify whose fetches are signed (see above). */
export function signedDocumentLoader(rt: FederationRuntime): (url: string) => Promise<RemoteDocument> {
  return async (url: string) => {
    const preloaded = preloadedContexts[url];
    if (preloaded !== undefined) return { contextUrl: null, documentUrl: url, document: preloaded };
    const response = await signedGet(rt, url);
    if (!response.ok) throw new GuardError('network', `HTTP ${response.status} from ${url}`, response.status);
    let document: unknown;
    try {
      document = JSON.parse(await response.text());
    } catch {
      throw new GuardError('network', `${url} did not answer with JSON`);
    }
    return { contextUrl: null, documentUrl: response.url || url, document };
  };
}

async function getJson(rt: FederationRuntime, url: string): Promise<Record<string, unknown>> {
  const response = await signedGet(rt, url);
  if (!response.ok) throw new GuardError('network', `HTTP ${response.status} from ${url}`, response.status);
  return JSON.parse(await response.text()) as Record<string, unknown>;
}

const idOf = (item: unknown): string | undefined =>
  typeof item === 'string'
    ? item
    : typeof item === 'object' && item && typeof (item as { id?: unknown }).id === 'string'
      ? (item as { id: string }).id
      : undefined;

const MAX_PAGES = 50;
const CACHE_MS = 30_000;
/** A negative answer is checked again when the list is older than this (someone just joined). */
const RECHECK_MS = 2_000;
const members = new WeakMap<FederationRuntime, Map<string, { at: number; ids: Promise<Set<string>> }>>();

async function readCollection(rt: FederationRuntime, url: string): Promise<Set<string>> {
  const ids = new Set<string>();
  const collection = await getJson(rt, url);
  const same = new URL(url).origin;
  const take = (page: Record<string, unknown>) => {
    for (const item of [...((page.orderedItems as unknown[]) ?? []), ...((page.items as unknown[]) ?? [])]) {
      const id = idOf(item);
      if (id) ids.add(id);
    }
  };
  take(collection);
  let next = idOf(collection.first);
  for (let n = 0; next && n < MAX_PAGES; n++) {
    if (new URL(next).origin !== same) break; // a collection pages on its own server
    const page = await getJson(rt, next);
    take(page);
    next = idOf(page.next);
  }
  return ids;
}

/** The actor ids in a remote group's followers collection (its accepted members). */
export async function remoteGroupMembers(rt: FederationRuntime, followersUrl: string, fresh = false): Promise<Set<string>> {
  let cache = members.get(rt);
  if (!cache) {
    cache = new Map();
    members.set(rt, cache);
  }
  const hit = cache.get(followersUrl);
  if (hit && !fresh && Date.now() - hit.at < CACHE_MS) return hit.ids;
  const ids = readCollection(rt, followersUrl);
  ids.catch(() => cache.delete(followersUrl));
  cache.set(followersUrl, { at: Date.now(), ids });
  if (cache.size > 200) cache.delete(cache.keys().next().value as string);
  return ids;
}

/** Whether `test` holds for the group's members, reading the list again once when it says no. */
export async function checkRemoteMembers(
  rt: FederationRuntime,
  followersUrl: string,
  test: (ids: Set<string>) => boolean,
): Promise<boolean> {
  const before = members.get(rt)?.get(followersUrl);
  const fromCache = before !== undefined && Date.now() - before.at < CACHE_MS;
  if (test(await remoteGroupMembers(rt, followersUrl))) return true;
  if (!fromCache || Date.now() - before.at < RECHECK_MS) return false;
  return test(await remoteGroupMembers(rt, followersUrl, true));
}

const followersUrls = new Map<string, string>();

/** The followers collection of a remote group, read from its actor document (kept in memory). */
export async function groupFollowersUrl(rt: FederationRuntime, groupApId: string): Promise<string | undefined> {
  const known = followersUrls.get(groupApId);
  if (known) return known;
  const actor = await getJson(rt, groupApId);
  const followers = idOf(actor.followers);
  if (!followers || new URL(followers).origin !== new URL(groupApId).origin) return undefined;
  followersUrls.set(groupApId, followers);
  if (followersUrls.size > 1000) followersUrls.delete(followersUrls.keys().next().value as string);
  return followers;
}
