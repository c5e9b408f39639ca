// Resources received from other networks (ActivityPub Document objects), for the federation
// inbox to call inside its transaction. No copy of a remote file is kept: the library links to it,
// with the size and type the sender declared. Only the actor that created a resource may change or
// delete it. Addresses that point into a private network are refused (a page of ours must never
// link readers' browsers, or anything else, to the inside of someone's network).
import type { Kysely } from 'kysely';
import { AppError } from '../core/errors.ts';
import { sanitizeRemoteHtml, toPlainText } from '../core/sanitize.ts';
import type { Database } from '../db/schema.ts';
import { isPrivateAddress } from '../federation/guard.ts';
import { safeFileName } from '../storage/file-name.ts';
import { FILE_KINDS, type FileKind, KINDS } from '../storage/file-type.ts';
import { LICENCE_CODES, licenceByUrl } from './licences.ts';
import {
  deleteFilesOf,
  deleteResourceRow,
  findResourceByApId,
  insertFile,
  insertResource,
  setFormats,
  updateResourceRow,
} from './resources.repository.ts';
import { AUDIENCES, normaliseTags, searchText } from './resources.service.ts';
import type { Audience } from './resources.tables.ts';

type Db = Kysely<Database>;

export interface RemoteFileInput {
  url: string;
  name?: string;
  mediaType?: string;
  size?: number;
}

export interface RemoteResourceInput {
  apId: string;
  actorId: string;
  networkName: string;
  networkHandle: string;
  /** The public page of the resource on its network. */
  url?: string;
  title: string;
  /** HTML from the remote server: sanitized here. */
  contentHtml?: string;
  tags?: string[];
  audience?: string;
  language?: string;
  /** A licence code of ours or the legal URL (schema.org `license`); unknown → all rights reserved. */
  licence?: string;
  authorName?: string;
  publishedAt?: Date;
  files: RemoteFileInput[];
  /** An external link (when the resource is a link rather than files). */
  link?: string;
}

export interface RemoteOptions {
  allowPrivate: boolean;
}

/** An http(s) URL that does not name a private, loopback or local host. */
export function publicHttpUrl(value: string, what: string, options: RemoteOptions): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AppError('bad_request', `The ${what} is not a valid URL.`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) {
    throw new AppError('bad_request', `The ${what} must be an http(s) URL.`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const local = host === 'localhost' || /\.(localhost|local|internal|lan|home\.arpa)$/.test(host) || isPrivateAddress(host);
  if (local && !options.allowPrivate) throw new AppError('bad_request', `The ${what} points to a private address: refused.`);
  return url.href;
}

function licenceOf(value: string | undefined): string {
  if (!value) return 'all-rights-reserved';
  if ((LICENCE_CODES as readonly string[]).includes(value)) return value;
  return licenceByUrl(value)?.code ?? 'all-rights-reserved';
}

function kindOfMediaType(mediaType: string | undefined): FileKind | null {
  const base = mediaType?.split(';')[0]?.trim().toLowerCase();
  return FILE_KINDS.find((k) => KINDS[k].mediaType.split(';')[0] === base) ?? null;
}

/** Creates or updates a resource received from `input.actorId`; returns its local id. */
export async function upsertRemoteResource(db: Db, input: RemoteResourceInput, options: RemoteOptions): Promise<string> {
  const apId = publicHttpUrl(input.apId, 'resource id', options);
  const actorId = publicHttpUrl(input.actorId, 'actor id', options);
  if (new URL(apId).origin !== new URL(actorId).origin) throw new AppError('forbidden', 'A network may only publish resources of its own.');
  const title = input.title.replace(/\s+/g, ' ').trim().slice(0, 200) || 'Sans titre';
  const descriptionHtml = sanitizeRemoteHtml(input.contentHtml ?? '');
  const files = input.files.slice(0, 10).map((f) => {
    const kind = kindOfMediaType(f.mediaType);
    const url = publicHttpUrl(f.url, 'file URL', options);
    // HTML, SVG and anything we do not recognise are linked as plain downloads, never inline.
    return {
      url,
      name: safeFileName(f.name ?? decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '')),
      kind,
      mediaType: kind ? KINDS[kind].mediaType : 'application/octet-stream',
      size: typeof f.size === 'number' && Number.isSafeInteger(f.size) && f.size >= 0 ? f.size : null,
    };
  });
  const audience = (AUDIENCES as readonly string[]).includes(input.audience ?? '') ? (input.audience as Audience) : 'everyone';
  let tags: string[];
  try {
    tags = normaliseTags(input.tags ?? []);
  } catch {
    tags = normaliseTags((input.tags ?? []).slice(0, 15).map((t) => t.slice(0, 40)));
  }
  const values = {
    origin: 'remote' as const,
    actorId,
    networkName: input.networkName.slice(0, 200),
    networkHandle: input.networkHandle.slice(0, 200),
    authorUserId: null,
    authorName: (input.authorName ?? input.networkName).trim().slice(0, 120) || input.networkName,
    title,
    descriptionMarkdown: null,
    descriptionHtml,
    summary: toPlainText(descriptionHtml, 300),
    linkUrl: input.link ? publicHttpUrl(input.link, 'link', options) : null,
    tags,
    audience,
    language: /^[a-z]{2,3}$/.test(input.language ?? '') ? input.language! : 'fr',
    licence: licenceOf(input.licence),
    status: 'published' as const,
    ...(input.publishedAt ? { publishedAt: input.publishedAt } : {}),
  };
  const search = searchText({ title, tags, summaryOrDescription: toPlainText(descriptionHtml, 20_000) });
  const pageUrl = input.url ? publicHttpUrl(input.url, 'page URL', options) : apId;

  const existing = await findResourceByApId(db, apId);
  let id: string;
  if (existing) {
    if (existing.origin !== 'remote' || existing.actorId !== actorId) {
      throw new AppError('forbidden', 'Only the network that published this resource may change it.');
    }
    id = existing.id;
    await updateResourceRow(db, id, values, search);
    await deleteFilesOf(db, id);
  } else {
    id = await insertResource(db, values, search, () => ({ apId, url: pageUrl }));
  }
  for (const f of files) {
    await insertFile(db, id, {
      name: f.name,
      kind: f.kind,
      mediaType: f.mediaType,
      size: f.size,
      hash: null,
      remoteUrl: f.url,
      uploadedBy: null,
    });
  }
  const formats = new Set<string>(files.map((f) => (f.kind ? KINDS[f.kind].category : 'other')));
  if (values.linkUrl) formats.add('link');
  await setFormats(db, id, [...formats].sort());
  return id;
}

/** Deletes a remote resource when `actorId` is the one that published it; false when there was none. */
export async function deleteRemoteResource(db: Db, apId: string, actorId: string): Promise<boolean> {
  const existing = await findResourceByApId(db, apId);
  if (!existing) return false;
  if (existing.origin !== 'remote' || existing.actorId !== actorId) {
    throw new AppError('forbidden', 'Only the network that published this resource may delete it.');
  }
  await deleteResourceRow(db, existing.id);
  return true;
}
