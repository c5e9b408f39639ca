// The direct inbox: the one activity that arrives by the thousand (a followed network's
// announcement, `Create` or `Update` of an `Article`) is verified and stored on arrival, in the
// request, without Fedify's inbox queue. Fedify turns each activity into objects three times
// (about 22 JSON-LD expansions) and writes it to its queue and idempotence store before a worker
// reads it back: 5–6 ms of CPU per activity, which held inbound storage near 140/s on this
// 2-core machine (docs/performance.md). Here the compact JSON is read as it is, once.
//
// Only what can be read without JSON-LD processing takes this path; anything else returns
// `false` and goes to Fedify unchanged (the caller does that), so every other activity, every
// unusual shape and every failure gets Fedify's full handling:
// - the signature: draft-cavage (`Signature` header, signature-draft.ts: Digest against the body,
//   Date within the hour, `(request-target)`, host, date and digest signed), with the public keys
//   kept in memory (key-cache.ts); the key must belong to the activity's actor. RFC 9421 → Fedify;
// - the JSON: `@context` made only of known contexts and inline terms that do not redefine what
//   is read here; `type`, `id`, `actor`, `attributedTo` plain strings; the object embedded, an
//   `Article` by the actor on the actor's server; name/summary/content as plain strings (no
//   language maps);
// - the sender: a network we follow, not blocked.
// The announcement is then stored through the same function as Fedify's listener
// (`storeAnnouncement`: sanitized, shared transaction, relay) before the 202 is sent, so an
// acknowledged activity is stored; if storing fails, Fedify takes it (and its queue retries).
import type { FastifyRequest } from 'fastify';
import { isBlocked, isFollowing } from './federation.repository.ts';
import { type ReceivedAnnouncement, storeAnnouncement } from './inbox.ts';
import { PublicKeys } from './key-cache.ts';
import type { FederationRuntime } from './runtime.ts';
import { parseSignatureHeader, verifyDraftSignature } from './signature-draft.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
/** Contexts that define none of the ActivityStreams terms read here (or only before AS's own). */
const SAFE_CONTEXTS = new Set([
  AS,
  'https://w3id.org/security/v1',
  'https://w3id.org/security/data-integrity/v1',
  'https://gotosocial.org/ns',
]);
/** May come before ActivityStreams' context, whose definitions then win. */
const SAFE_BEFORE_AS = new Set(['https://w3id.org/identity/v1']);
/** The terms read here: an inline context must not give them another meaning. */
const READ_TERMS = new Set([
  'id',
  'type',
  'actor',
  'object',
  'attributedTo',
  'name',
  'summary',
  'content',
  'url',
  'href',
  'published',
  'updated',
  'tag',
  'Create',
  'Update',
  'Article',
  'Link',
  'Hashtag',
]);

type Json = Record<string, unknown>;

/** Whether the compact JSON means what it says with ActivityStreams' own definitions. */
export function plainContext(context: unknown): boolean {
  const items = Array.isArray(context) ? context : [context];
  let seenAs = false;
  for (const item of items) {
    if (typeof item === 'string') {
      if (item === AS) seenAs = true;
      else if (!(SAFE_CONTEXTS.has(item) || (!seenAs && SAFE_BEFORE_AS.has(item)))) return false;
    } else if (item && typeof item === 'object' && !Array.isArray(item)) {
      for (const [term, definition] of Object.entries(item)) {
        if (term.startsWith('@')) return false; // @vocab, @base, @language…: change how everything reads
        // "Hashtag": "as:Hashtag" (Mastodon) says what ActivityStreams already says.
        if (READ_TERMS.has(term) && definition !== `as:${term}` && definition !== `${AS}#${term}`) return false;
      }
    } else return false;
  }
  return seenAs;
}

const text = (value: unknown): string | undefined | null =>
  value === undefined || value === null ? undefined : typeof value === 'string' ? value : null;

function dateOf(value: unknown): Date | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function urlOf(value: unknown, fallback: string): string | null {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined || first === null) return fallback;
  if (typeof first === 'string') return first;
  if (typeof first === 'object' && (first as Json).type === 'Link' && typeof (first as Json).href === 'string')
    return (first as Json).href as string;
  return null;
}

function tagsOf(value: unknown): string[] | null {
  const tags: string[] = [];
  for (const tag of value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]) {
    if (!tag || typeof tag !== 'object') return null;
    const { type, name } = tag as Json;
    if (type === 'Hashtag' && typeof name === 'string') tags.push(name.replace(/^#/, ''));
    else if (typeof type !== 'string') return null; // a tag Fedify would have to interpret
  }
  return tags;
}

const sameOrigin = (a: string, b: string): boolean => {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
};

/** The announcement carried by `activity`, or null when it is not the plain shape read here. */
export function plainAnnouncement(activity: Json): { actor: string; post: ReceivedAnnouncement; create: boolean } | null {
  if (activity.type !== 'Create' && activity.type !== 'Update') return null;
  if (!plainContext(activity['@context'])) return null;
  const { actor, id } = activity;
  const object = activity.object as Json | undefined;
  if (typeof actor !== 'string' || typeof id !== 'string' || !object || typeof object !== 'object' || Array.isArray(object)) return null;
  if ('@context' in object || object.type !== 'Article' || typeof object.id !== 'string') return null;
  if (object.attributedTo !== actor || !sameOrigin(object.id, actor) || !sameOrigin(id, actor)) return null;
  const title = text(object.name);
  const summary = text(object.summary);
  const contentHtml = text(object.content);
  const published = dateOf(object.published);
  const updated = dateOf(object.updated);
  const url = urlOf(object.url, object.id);
  const tags = tagsOf(object.tag);
  if (title === null || summary === null || contentHtml === null || published === null || updated === null || !url || !tags) return null;
  // Language maps only (no plain value) need Fedify's reading.
  if ((title === undefined && object.nameMap) || (contentHtml === undefined && object.contentMap)) return null;
  if (summary === undefined && object.summaryMap) return null;
  return {
    actor,
    create: activity.type === 'Create',
    post: {
      apId: object.id,
      url,
      title: title ?? '',
      summary: summary ?? '',
      contentHtml: contentHtml ?? '',
      tags,
      publishedAt: published ?? new Date(),
      ...(updated ? { updatedAt: updated } : {}),
    },
  };
}

const publicKeys = new WeakMap<FederationRuntime, PublicKeys>();

/** Same window as Fedify's (federation.ts): a Date more than an hour away is refused. */
const WINDOW_MS = 3600_000;

/**
 * Verify and store `activity` (the parsed body of `request`) here; true when done (answer 202),
 * false when Fedify must take the request.
 */
export async function receiveDirectly(rt: FederationRuntime, request: FastifyRequest, activity: Json): Promise<boolean> {
  const path = request.url;
  if (path !== rt.urls.sharedInbox.pathname && path !== rt.urls.inbox.pathname) return false; // a group's inbox, a query
  const header = request.headers.signature;
  if (typeof header !== 'string' || request.headers['signature-input'] !== undefined || !Buffer.isBuffer(request.body)) return false;
  const signature = parseSignatureHeader(header);
  const plain = signature && plainAnnouncement(activity);
  if (!signature || !plain) return false;
  const db = rt.app.db;
  if ((await isBlocked(db, plain.actor)) || !(await isFollowing(db, plain.actor))) return false;
  let keys = publicKeys.get(rt);
  if (!keys) {
    keys = new PublicKeys(rt);
    publicKeys.set(rt, keys);
  }
  const known = await keys.get(signature.keyId);
  // A key of someone else: Fedify answers (its owner check, then 401).
  if (!known || known.ownerId !== plain.actor) return false;
  const signed = { method: request.method, target: path, headers: request.headers, body: request.body };
  if (!(await verifyDraftSignature(signed, signature, known.key, Date.now(), WINDOW_MS))) {
    keys.forget(signature.keyId); // perhaps a new key: fetched again next time (Fedify does now)
    return false;
  }
  try {
    await storeAnnouncement(rt, plain.post, plain.actor, plain.create);
  } catch (error) {
    rt.app.log.warn({ err: error }, 'federation: an announcement could not be stored directly; handed to the queue');
    return false;
  }
  return true;
}
