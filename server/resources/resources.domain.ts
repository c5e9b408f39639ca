// The rules of a resource without storage: what a valid one is (title, description rendered from
// Markdown, link, tags, audience, language, licence, author, status), the accent-folded text that
// is indexed, and which file version is the current one.
import { AppError } from '../core/errors.ts';
import { toPlainText } from '../core/sanitize.ts';
import { LICENCE_CODES } from './licences.ts';
import type { FileRow, ResourceRow, SearchText } from './resources.repository.ts';
import type { Audience, ResourceStatus } from './resources.tables.ts';
import { foldAccents, renderMarkdown } from './text.ts';

export const AUDIENCES: readonly Audience[] = ['everyone', 'amaps', 'farmers', 'networks'];
export const LIMITS = { title: 200, description: 20_000, link: 2000, author: 120, tags: 15, tag: 40, files: 10 } as const;

/** What an editor sends (form or API). Absent fields keep their value on an edit. */
export interface ResourceInput {
  title?: string;
  description?: string;
  link?: string | null;
  tags?: readonly string[] | string;
  audience?: string;
  language?: string;
  licence?: string;
  author?: string;
  status?: string;
}

export function invalid(field: string, reason: string, message: string): AppError {
  return new AppError('validation_failed', message, { field, reason: `resources.error.${reason}` });
}

export function normaliseTags(tags: readonly string[] | string | undefined): string[] {
  const list = typeof tags === 'string' ? tags.split(',') : (tags ?? []);
  const out: string[] = [];
  for (const raw of list) {
    const tag = raw.normalize('NFC').trim().replace(/^#+/, '').replace(/\s+/g, ' ').trim().toLowerCase();
    if (!tag) continue;
    if (Array.from(tag).length > LIMITS.tag) throw invalid('tags', 'tag', `A tag must have at most ${LIMITS.tag} characters.`);
    if (!out.includes(tag)) out.push(tag);
  }
  if (out.length > LIMITS.tags) throw invalid('tags', 'tags', `At most ${LIMITS.tags} tags.`);
  return out;
}

export function checkHttpUrl(value: string, field: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw invalid(field, 'link', 'The link must be a full web address starting with https:// or http://.');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) {
    throw invalid(field, 'link', 'The link must be a web address starting with https:// or http://.');
  }
  if (url.href.length > LIMITS.link) throw invalid(field, 'link', `The link must have at most ${LIMITS.link} characters.`);
  return url.href;
}

export function checkLicence(code: string | undefined): string {
  if (code === undefined || !LICENCE_CODES.includes(code as (typeof LICENCE_CODES)[number])) {
    throw new AppError('validation_failed', `Unknown licence "${code ?? ''}": choose one of ${LICENCE_CODES.join(', ')}.`, {
      field: 'licence',
      reason: 'resources.error.licence',
      allowed: LICENCE_CODES,
    });
  }
  return code;
}

export interface Prepared {
  title: string;
  descriptionMarkdown: string;
  descriptionHtml: string;
  summary: string;
  linkUrl: string | null;
  tags: string[];
  audience: Audience;
  language: string;
  licence: string;
  authorName: string;
  status: ResourceStatus;
}

export function prepare(input: ResourceInput, current: Prepared | undefined, defaultAuthor: string): Prepared {
  const title = (input.title ?? current?.title ?? '').replace(/\s+/g, ' ').trim();
  if (!title) throw invalid('title', 'title', 'The title is required.');
  if (Array.from(title).length > LIMITS.title) throw invalid('title', 'title', `The title must have at most ${LIMITS.title} characters.`);
  const description = (input.description ?? current?.descriptionMarkdown ?? '').trim();
  if (description.length > LIMITS.description) {
    throw invalid('description', 'description', `The description must have at most ${LIMITS.description} characters.`);
  }
  const descriptionHtml = description ? renderMarkdown(description) : '';
  const linkGiven = input.link === undefined ? current?.linkUrl : input.link;
  const linkUrl = linkGiven?.trim() ? checkHttpUrl(linkGiven, 'link') : null;
  const audience = (input.audience?.trim() || current?.audience || 'everyone') as Audience;
  if (!AUDIENCES.includes(audience)) throw invalid('audience', 'audience', `The audience must be one of ${AUDIENCES.join(', ')}.`);
  const language = (input.language?.trim().toLowerCase() || current?.language || 'fr').slice(0, 8);
  if (!/^[a-z]{2,3}$/.test(language)) throw invalid('language', 'language', 'The language must be a code such as fr or en.');
  const licence = checkLicence(input.licence?.trim() || current?.licence);
  const authorName = (input.author ?? current?.authorName ?? defaultAuthor).replace(/\s+/g, ' ').trim() || defaultAuthor;
  if (Array.from(authorName).length > LIMITS.author)
    throw invalid('author', 'author', `The author must have at most ${LIMITS.author} characters.`);
  const status = (input.status?.trim() || current?.status || 'published') as ResourceStatus;
  if (status !== 'published' && status !== 'unpublished') throw invalid('status', 'status', 'The status must be published or unpublished.');
  return {
    title,
    descriptionMarkdown: description,
    descriptionHtml,
    summary: toPlainText(descriptionHtml, 300),
    linkUrl,
    tags: input.tags === undefined ? (current?.tags ?? []) : normaliseTags(input.tags),
    audience,
    language,
    licence,
    authorName,
    status,
  };
}

export function searchText(p: { title: string; tags: string[]; summaryOrDescription: string }): SearchText {
  return { title: foldAccents(p.title), tags: foldAccents(p.tags.join(' ')), description: foldAccents(p.summaryOrDescription) };
}

/** The newest version of each slot. */
export function currentVersions(files: FileRow[]): FileRow[] {
  const seen = new Map<number, FileRow>();
  for (const f of files) {
    const known = seen.get(f.slot);
    if (!known || known.version < f.version) seen.set(f.slot, f);
  }
  return [...seen.values()].sort((a, b) => a.slot - b.slot);
}

export function fromRow(row: ResourceRow): Prepared {
  return {
    title: row.title,
    descriptionMarkdown: row.descriptionMarkdown ?? '',
    descriptionHtml: row.descriptionHtml,
    summary: row.summary,
    linkUrl: row.linkUrl,
    tags: row.tags,
    audience: row.audience,
    language: row.language,
    licence: row.licence,
    authorName: row.authorName,
    status: row.status,
  };
}

/**
 * Checks the metadata fields that are present (an upload's fields arrive before its files when the
 * client orders them so): an unknown licence or a bad link is refused before any file is stored.
 */
export function checkPresentFields(fields: Record<string, string[]>): void {
  const licence = fields.licence?.[0]?.trim();
  if (licence) checkLicence(licence);
  const link = fields.link?.[0]?.trim();
  if (link) checkHttpUrl(link, 'link');
  const audience = fields.audience?.[0]?.trim();
  if (audience && !AUDIENCES.includes(audience as Audience)) {
    throw invalid('audience', 'audience', `The audience must be one of ${AUDIENCES.join(', ')}.`);
  }
  const title = fields.title?.[0];
  if (title !== undefined && Array.from(title.trim()).length > LIMITS.title) {
    throw invalid('title', 'title', `The title must have at most ${LIMITS.title} characters.`);
  }
}
