// For the federation inbox: an ActivityPub Document received from a followed network, turned into
// the input of `upsertRemoteResource`. Nothing here goes on the network: attachments referenced by
// URL only (not embedded) are skipped rather than fetched, so this can run inside a transaction.
// The licence comes from the `rel="license"` link of the content (what this software sends), else
// it is "all rights reserved", the safe reading.
import { Document, Hashtag, Link } from '@fedify/vocab';
import type { RemoteDocument } from '@fedify/vocab-runtime';
import type { RemoteResourceInput } from './resources.remote.ts';

export interface Sender {
  actorId: string;
  networkName: string;
  /** e.g. aura@amap-aura.org */
  networkHandle: string;
}

async function noFetch(url: string): Promise<RemoteDocument> {
  throw new Error(`not fetched: ${url}`);
}

const text = (value: unknown): string => (value === null || value === undefined ? '' : String(value));

/** True for the objects this capability stores (an ActivityPub Document). */
export function isResourceDocument(object: unknown): object is Document {
  return object instanceof Document;
}

export async function remoteResourceInput(doc: Document, sender: Sender): Promise<RemoteResourceInput | undefined> {
  if (!doc.id) return undefined;
  const content = text(doc.content);
  const licence = /<a\b[^>]*\brel="license"[^>]*\bhref="([^"]+)"|<a\b[^>]*\bhref="([^"]+)"[^>]*\brel="license"/i.exec(content);
  const files: RemoteResourceInput['files'] = [];
  for await (const item of doc.getAttachments({ documentLoader: noFetch, suppressError: true })) {
    if (!(item instanceof Document)) continue;
    const url = item.url instanceof Link ? item.url.href : item.url;
    if (!url) continue;
    files.push({ url: url.href, name: text(item.name), mediaType: item.mediaType ?? undefined });
  }
  const tags: string[] = [];
  for await (const tag of doc.getTags({ documentLoader: noFetch, suppressError: true })) {
    if (tag instanceof Hashtag && tag.name) tags.push(text(tag.name).replace(/^#/, ''));
  }
  const page = doc.url instanceof Link ? doc.url.href : doc.url;
  return {
    apId: doc.id.href,
    actorId: sender.actorId,
    networkName: sender.networkName,
    networkHandle: sender.networkHandle,
    ...(page ? { url: page.href } : {}),
    title: text(doc.name),
    contentHtml: content,
    tags,
    ...(licence ? { licence: (licence[1] ?? licence[2])!.replaceAll('&amp;', '&') } : {}),
    ...(doc.published ? { publishedAt: new Date(doc.published.toString()) } : {}),
    files,
  };
}
