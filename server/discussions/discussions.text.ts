// The text of a post: Markdown rendered with the same renderer as announcements (marked, GFM,
// line breaks), mentions (@user@host) and hashtags (#tag) turned into links, then sanitized with
// the policy for content we did not write ourselves: no script, no style, and no image at all (an
// image in a post would make every reader's browser call its server: a tracking pixel).
import { Marked, type TokenizerAndRendererExtension } from 'marked';
import { normalizeTag } from '../announcements/announcements.domain.ts';
import { sanitizeRemoteHtml, toPlainText } from '../core/sanitize.ts';
import { escapeHtml } from '../web/html.ts';

export const POST_LIMITS = { markdown: 20_000, title: 200, tags: 20, mentions: 20 } as const;

// A mention: @user@host (host may carry a port, as on a test instance), or @user for this server.
const MENTION = /^@([a-z0-9_][a-z0-9_.-]{0,63})(?:@([a-z0-9-]+(?:\.[a-z0-9-]+)*(?::\d{1,5})?))?/i;
// A hashtag: letters, digits and _ (at least one letter or _: "#1" is a number, not a tag).
const HASHTAG = /^#([\p{L}\p{N}_]*[\p{L}_][\p{L}\p{N}_]*)/u;
// Where a mention or a tag may begin: at the start or after a space or an opening bracket.
const BOUNDARY = /(^|[\s([{>"'«])([@#])/u;

function trimHost(host: string): string {
  // "@bob@example.org." at the end of a sentence: the final dot is punctuation.
  return host.replace(/[.-]+$/, '').toLowerCase();
}

/**
 * The mentions (as "user@host", host in lower case) and hashtags (normalised like announcement
 * tags: lower case, no #) of a text, in order, without duplicates. Code (`x` and ``` blocks) is
 * ignored. A mention without host is of `localHost` when given, else left out.
 */
export function parseMentionsAndTags(text: string, options: { localHost?: string } = {}): { mentions: string[]; tags: string[] } {
  const withoutCode = text.replace(/```[\s\S]*?(```|$)/g, ' ').replace(/`[^`\n]*`/g, ' ');
  const mentions: string[] = [];
  const tags: string[] = [];
  let rest = withoutCode;
  let match = BOUNDARY.exec(rest);
  while (match) {
    const at = match.index + match[1]!.length;
    const tail = rest.slice(at);
    let consumed = 1;
    if (match[2] === '@') {
      const m = MENTION.exec(tail);
      if (m) {
        consumed = m[0].length;
        const host = m[2] ? trimHost(m[2]) : options.localHost?.toLowerCase();
        const user = m[1]!.replace(/[.-]+$/, '');
        if (host && user) {
          const handle = `${user}@${host}`;
          if (!mentions.includes(handle) && mentions.length < POST_LIMITS.mentions) mentions.push(handle);
        }
      }
    } else {
      const m = HASHTAG.exec(tail);
      if (m) {
        consumed = m[0].length;
        const tag = normalizeTag(m[1]!);
        if (tag && !tags.includes(tag) && tags.length < POST_LIMITS.tags) tags.push(tag);
      }
    }
    rest = tail.slice(consumed);
    match = BOUNDARY.exec(rest);
  }
  return { mentions, tags };
}

/** Where a mention links: our own actors' page, else the usual profile address on their server. */
export function mentionUrl(user: string, host: string, publicUrl: string): string {
  const ours = new URL(publicUrl);
  if (host.toLowerCase() === ours.host.toLowerCase()) return `${ours.origin}/ap/actors/${encodeURIComponent(user.toLowerCase())}`;
  return `https://${host}/@${encodeURIComponent(user)}`;
}

/** The page listing the posts of a tag. */
export function tagUrl(tag: string, publicUrl: string): string {
  return `${publicUrl}/groups?tag=${encodeURIComponent(tag)}`;
}

function extensions(publicUrl: string): TokenizerAndRendererExtension[] {
  const localHost = new URL(publicUrl).host;
  const startAt = (marker: '@' | '#') => (src: string) => {
    const re = new RegExp(`(^|[\\s([{>"'«])${marker}`, 'u');
    const m = re.exec(src);
    return m ? m.index + m[1]!.length : undefined;
  };
  return [
    {
      name: 'mention',
      level: 'inline',
      start: startAt('@'),
      tokenizer(src) {
        const m = MENTION.exec(src);
        if (!m) return undefined;
        const user = m[1]!.replace(/[.-]+$/, '');
        const host = m[2] ? trimHost(m[2]) : localHost;
        const raw = `@${user}${m[2] ? `@${m[2].replace(/[.-]+$/, '')}` : ''}`;
        return { type: 'mention', raw, user, host };
      },
      renderer(token) {
        const label = token.host === localHost && !token.raw.slice(1).includes('@') ? `@${token.user}` : `@${token.user}@${token.host}`;
        return `<a href="${escapeHtml(mentionUrl(token.user, token.host, publicUrl))}">${escapeHtml(label)}</a>`;
      },
    },
    {
      name: 'hashtag',
      level: 'inline',
      start: startAt('#'),
      tokenizer(src) {
        const m = HASHTAG.exec(src);
        if (!m) return undefined;
        const tag = normalizeTag(m[1]!);
        if (!tag) return undefined;
        return { type: 'hashtag', raw: m[0], text: m[1], tag };
      },
      renderer(token) {
        return `<a href="${escapeHtml(tagUrl(token.tag, publicUrl))}">#${escapeHtml(token.text)}</a>`;
      },
    },
  ];
}

const renderers = new Map<string, Marked>();

function markedFor(publicUrl: string): Marked {
  let marked = renderers.get(publicUrl);
  if (!marked) {
    marked = new Marked({ gfm: true, breaks: true });
    marked.use({ extensions: extensions(publicUrl) });
    renderers.set(publicUrl, marked);
  }
  return marked;
}

export interface RenderedPost {
  html: string;
  text: string;
  mentions: string[];
  tags: string[];
}

/** Markdown written here → safe HTML with linked mentions and tags, its plain text, and both lists. */
export function renderPostMarkdown(markdown: string, publicUrl: string): RenderedPost {
  const html = sanitizeRemoteHtml(markedFor(publicUrl).parse(markdown, { async: false }));
  const { mentions, tags } = parseMentionsAndTags(markdown, { localHost: new URL(publicUrl).host });
  return { html, text: toPlainText(html, 100_000), mentions, tags };
}

/** HTML received from another server → safe HTML (no image, no script) and its plain text. */
export function cleanRemoteHtml(contentHtml: string): { html: string; text: string } {
  const html = sanitizeRemoteHtml(contentHtml);
  return { html, text: toPlainText(html, 100_000) };
}
