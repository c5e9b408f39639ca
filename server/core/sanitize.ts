// The two HTML policies of the program, shared by every capability that shows HTML it did not
// write itself: one for what our own editors write (Markdown rendered to HTML), one for what other
// servers send (ActivityPub content). Both drop scripts, styles, frames, event handlers and any
// URL scheme other than http(s) (and mailto for links). Links get rel="nofollow noopener ugc".
// Remote HTML keeps no image: showing one would make every reader's browser call a third party.
import sanitizeHtml from 'sanitize-html';

const LINK_REL = 'nofollow noopener ugc';
const ABSOLUTE_HTTP = /^https?:\/\/[^\s/]/i;

const TEXT_TAGS = [
  'p',
  'br',
  'hr',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'strong',
  'em',
  'b',
  'i',
  'u',
  's',
  'del',
  'blockquote',
  'ul',
  'ol',
  'li',
  'code',
  'pre',
  'a',
];

function linkWithRel(_tagName: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
  const out: sanitizeHtml.Attributes = { rel: LINK_REL };
  if (attribs.href) out.href = attribs.href;
  if (attribs.title) out.title = attribs.title;
  return { tagName: 'a', attribs: out };
}

// In HTML from another server, a relative link ("/admin", "../x") would point into THIS site, not
// the sender's: only absolute http(s) and mailto links are kept (the text stays).
function remoteLink(tagName: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
  const tag = linkWithRel(tagName, attribs);
  const href = tag.attribs.href;
  if (href !== undefined && !ABSOLUTE_HTTP.test(href) && !/^mailto:/i.test(href)) delete tag.attribs.href;
  return tag;
}

const common: sanitizeHtml.IOptions = {
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // Text inside these is never shown (the tags are dropped with their content).
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'object', 'embed', 'template', 'title'],
  parser: { lowerCaseTags: true, lowerCaseAttributeNames: true },
};

const userPolicy: sanitizeHtml.IOptions = {
  ...common,
  allowedTags: [...TEXT_TAGS, 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td'],
  allowedAttributes: { a: ['href', 'title', 'rel'], img: ['src', 'alt', 'title'] },
  allowedSchemesByTag: { img: ['http', 'https'] },
  // The page title is the only h1; a "# heading" in the body becomes a second-level heading.
  // Only images served by an instance's media store are shown (editors' images from other sites
  // are copied there when saved: server/media); any other becomes a link, so that readers'
  // browsers never call a third party.
  transformTags: {
    h1: 'h2',
    a: linkWithRel,
    img: (tagName, attribs) => (isMediaImage(attribs.src) ? { tagName, attribs } : imageAsLink(attribs)),
  },
  // (An image whose src is not an absolute http(s) URL — javascript:, data:, relative — is left as
  // its description only: imageAsLink.)
};

const MEDIA_IMAGE = /^https?:\/\/[^\s/]+\/media\/[0-9a-f]{64}\.(png|jpeg|gif|webp)$/;

function isMediaImage(src: string | undefined): boolean {
  return MEDIA_IMAGE.test(src ?? '');
}

/** An image turned into a link to it, named by its description: the reader chooses to load it. */
function imageAsLink(attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
  const text = attribs.alt?.trim() || 'image';
  const src = attribs.src ?? '';
  return ABSOLUTE_HTTP.test(src) ? { tagName: 'a', attribs: { href: src, rel: LINK_REL }, text } : { tagName: 'span', attribs: {}, text };
}

const remotePolicy: sanitizeHtml.IOptions = {
  ...common,
  allowedTags: [...TEXT_TAGS, 'span'],
  allowedAttributes: { a: ['href', 'title', 'rel'] },
  transformTags: {
    h1: 'h2',
    a: remoteLink,
    img: (_tagName, attribs) => imageAsLink(attribs),
  },
  // A link left with neither text nor target says nothing: it is dropped.
  exclusiveFilter: (frame) => frame.tag === 'a' && !frame.text.trim() && !frame.attribs.href,
};

/** HTML written by our editors (rendered Markdown), made safe to show as is. */
export function sanitizeUserHtml(html: string): string {
  return sanitizeHtml(html, userPolicy);
}

/** HTML received from another server, made safe to show as is (no image, no style). */
export function sanitizeRemoteHtml(html: string): string {
  return sanitizeHtml(html, remotePolicy);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8}|#39);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** Cut `text` to at most `maxLength` characters, at a word boundary when one is near, with an ellipsis. */
export function truncate(text: string, maxLength: number): string {
  const chars = Array.from(text);
  if (chars.length <= maxLength) return text;
  const cut = chars.slice(0, Math.max(0, maxLength - 1)).join('');
  const space = cut.lastIndexOf(' ');
  const base = space > maxLength * 0.6 ? cut.slice(0, space) : cut;
  return `${base.replace(/[\s.,;:!?-]+$/u, '')}…`;
}

/** The text of an HTML fragment, on one line, for excerpts and feeds (at most `maxLength` characters). */
export function toPlainText(html: string, maxLength: number): string {
  // Text with no markup and no entity is already plain: only its spaces and controls are tidied
  // (most summaries and titles received over ActivityPub; the HTML parser was half their cost).
  if (!/[<>&]/.test(html)) return truncate(tidyText(html), maxLength);
  // Blocks are separated by a space so that "<p>a</p><p>b</p>" reads "a b", not "ab".
  const spaced = html.replace(/<(\/?)(p|br|hr|div|li|h[1-6]|blockquote|pre|tr|td|th)\b/gi, ' <$1$2');
  const text = sanitizeHtml(spaced, { allowedTags: [], allowedAttributes: {}, nonTextTags: common.nonTextTags });
  return truncate(tidyText(decodeEntities(text)), maxLength);
}

function tidyText(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are removed on purpose.
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
      .replace(/\s+/g, ' ')
      .trim()
  );
}
