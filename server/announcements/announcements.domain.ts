// The rules of an announcement, without storage: what a valid one is, how its Markdown becomes
// safe HTML, how tags are normalised, how the summary is made when the editor gives none.
import { Marked } from 'marked';
import { AppError } from '../core/errors.ts';
import { sanitizeUserHtml, toPlainText } from '../core/sanitize.ts';

export const LIMITS = {
  title: 200,
  summary: 500,
  /** Length of a summary generated from the body. */
  generatedSummary: 300,
  body: 100_000,
  imageUrl: 2000,
  imageAlt: 1000,
  tags: 10,
  tag: 50,
} as const;

export type AnnouncementStatus = 'draft' | 'published';

/** What an editor sends (API or form). Absent fields keep their stored value on an edit. */
export interface AnnouncementInput {
  title?: string;
  summary?: string | null;
  body?: string;
  imageUrl?: string | null;
  imageAlt?: string | null;
  tags?: readonly string[] | string;
  status?: AnnouncementStatus;
}

/** A valid announcement, ready to store. */
export interface PreparedAnnouncement {
  title: string;
  summary: string;
  summaryAuto: boolean;
  bodyMarkdown: string;
  contentHtml: string;
  imageUrl: string | null;
  imageAlt: string | null;
  tags: string[];
  status: AnnouncementStatus;
}

export type AnnouncementField = 'title' | 'summary' | 'body' | 'imageUrl' | 'imageAlt' | 'tags' | 'status';

export interface FieldProblem {
  field: AnnouncementField;
  /** Stable code; pages translate it (announcements.error.<code>). */
  code: string;
  message: string;
}

const markdown = new Marked({ gfm: true, breaks: true });

/** Markdown → sanitized HTML (no script, no style, no frame, links rel="nofollow noopener ugc"). */
export function renderMarkdown(source: string): string {
  return sanitizeUserHtml(markdown.parse(source, { async: false }));
}

const TAG = /^[\p{L}\p{N}_-]+$/u;

/** One tag as stored: lower-case, without '#', spaces turned into '-'; null when not a valid tag. */
export function normalizeTag(raw: string): string | null {
  const tag = raw.normalize('NFC').trim().replace(/^#+/, '').trim().toLowerCase().replace(/\s+/g, '-');
  if (tag === '' || Array.from(tag).length > LIMITS.tag || !TAG.test(tag)) return null;
  return tag;
}

/** Tags from a list or from text ("#amap, bio local"); duplicates removed, order kept. */
export function parseTags(input: readonly string[] | string): { tags: string[]; invalid: string[] } {
  const items = typeof input === 'string' ? input.split(/[,\s]+/) : input;
  const tags: string[] = [];
  const invalid: string[] = [];
  for (const item of items) {
    if (item.trim() === '' || /^#+$/.test(item.trim())) continue;
    const tag = normalizeTag(item);
    if (tag === null) invalid.push(item);
    else if (!tags.includes(tag)) tags.push(tag);
  }
  return { tags, invalid };
}

/** True when `value` is an absolute http(s) URL. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const length = (text: string): number => Array.from(text).length;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are removed on purpose.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

function clean(text: string): string {
  return text.replace(CONTROL, '').trim();
}

/**
 * Validates `input` over `current` (the stored announcement, for an edit) and returns the values
 * to store; every problem is reported at once (validation_failed, details: FieldProblem[]).
 */
export function prepareAnnouncement(input: AnnouncementInput, current?: PreparedAnnouncement): PreparedAnnouncement {
  const problems: FieldProblem[] = [];
  const problem = (field: AnnouncementField, code: string, message: string) => problems.push({ field, code, message });

  const title = clean(input.title ?? current?.title ?? '').replace(/\s+/g, ' ');
  if (title === '') problem('title', 'titleRequired', 'title is required.');
  else if (length(title) > LIMITS.title) problem('title', 'titleTooLong', `title must be at most ${LIMITS.title} characters.`);

  const bodyMarkdown = (input.body ?? current?.bodyMarkdown ?? '').replace(CONTROL, '').replace(/\r\n?/g, '\n');
  if (bodyMarkdown.trim() === '') problem('body', 'bodyRequired', 'body is required.');
  else if (length(bodyMarkdown) > LIMITS.body) problem('body', 'bodyTooLong', `body must be at most ${LIMITS.body} characters.`);
  const contentHtml = bodyMarkdown.trim() === '' ? '' : renderMarkdown(bodyMarkdown);

  // An edit that does not mention the summary keeps a written one, and regenerates a generated one.
  const givenSummary = input.summary !== undefined ? clean(input.summary ?? '') : current && !current.summaryAuto ? current.summary : '';
  const summaryAuto = givenSummary === '';
  const summary = summaryAuto ? toPlainText(contentHtml, LIMITS.generatedSummary) : givenSummary.replace(/\s+/g, ' ');
  if (length(summary) > LIMITS.summary) problem('summary', 'summaryTooLong', `summary must be at most ${LIMITS.summary} characters.`);

  const rawImage = input.imageUrl !== undefined ? clean(input.imageUrl ?? '') : (current?.imageUrl ?? '');
  const imageUrl = rawImage === '' ? null : rawImage;
  if (imageUrl !== null && (length(imageUrl) > LIMITS.imageUrl || !isHttpUrl(imageUrl))) {
    problem('imageUrl', 'imageUrlInvalid', 'imageUrl must be an absolute http:// or https:// address.');
  }
  const rawAlt = input.imageAlt !== undefined ? clean(input.imageAlt ?? '') : (current?.imageAlt ?? '');
  const imageAlt = imageUrl === null ? null : rawAlt.replace(/\s+/g, ' ');
  if (imageUrl !== null && !imageAlt)
    problem('imageAlt', 'imageAltRequired', 'imageAlt (a description of the image) is required with an image.');
  else if (imageAlt && length(imageAlt) > LIMITS.imageAlt) {
    problem('imageAlt', 'imageAltTooLong', `imageAlt must be at most ${LIMITS.imageAlt} characters.`);
  }

  let tags = current?.tags ?? [];
  if (input.tags !== undefined) {
    const parsed = parseTags(input.tags);
    tags = parsed.tags;
    if (parsed.invalid.length > 0) {
      problem(
        'tags',
        'tagInvalid',
        `tags may hold only letters, digits, - and _ (at most ${LIMITS.tag} characters): ${parsed.invalid.join(', ')}.`,
      );
    } else if (tags.length > LIMITS.tags) problem('tags', 'tooManyTags', `at most ${LIMITS.tags} tags.`);
  }

  const status = input.status ?? current?.status ?? 'draft';
  if (current?.status === 'published' && status === 'draft') {
    problem('status', 'cannotUnpublish', 'a published announcement cannot go back to draft; delete it instead.');
  }

  if (problems.length > 0) {
    throw new AppError('validation_failed', problems.map((p) => p.message).join(' '), problems);
  }
  return { title, summary, summaryAuto, bodyMarkdown, contentHtml, imageUrl, imageAlt, tags, status };
}
