// HTML pieces of the discussion pages: a post with its reply and report forms, a thread as nested
// lists (each reply under its parent, nesting capped at depth 8 like the stored depth), a thread in
// a group's list, dates. Everything works without JavaScript: reply and report forms sit in
// <details> boxes the browser opens by itself; web/discussions.js only adds live posts.
import type { Locale } from '../config.ts';
import { html, raw, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import './discussions.messages.ts';
import type { PostRow } from './posts.repository.ts';

/** How deep replies nest on the page (deeper ones are shown after their parent, at this depth). */
export const MAX_DEPTH = 8;

const formatters = new Map<Locale, Intl.DateTimeFormat>();

export function formatDateTime(date: Date, locale: Locale): string {
  let formatter = formatters.get(locale);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', {
      dateStyle: 'long',
      timeStyle: 'short',
      timeZone: 'Europe/Paris',
    });
    formatters.set(locale, formatter);
  }
  return formatter.format(date);
}

export function timeTag(date: Date, locale: Locale): SafeHtml {
  const d = new Date(date);
  return html`<time datetime="${d.toISOString()}">${formatDateTime(d, locale)}</time>`;
}

/** Who looks at a post, and what the page lets them do with it. */
export interface PostViewer {
  locale: Locale;
  /** The hidden CSRF field for the forms of this page. */
  csrf: SafeHtml;
  /** May reply (signed in and allowed in this context). */
  canReply: boolean;
  /** Signed in (members and staff may report). */
  signedIn: boolean;
  /** Staff or a moderator of this group: gets a link to the moderation page of each post. */
  canModerate: boolean;
  /** The viewer's actor id: their own held posts are shown to them. */
  actorApId?: string;
  /** Where "sign in" links come back to. */
  back: string;
}

export const postUrl = (post: Pick<PostRow, 'id'>) => `/discussions/posts/${post.id}`;

function hostOf(apId: string): string {
  try {
    return new URL(apId).host;
  } catch {
    return '';
  }
}

/** The author line: name, handle, date (a permalink), and "edited". */
function byline(post: PostRow, locale: Locale): SafeHtml {
  const handle = post.author_handle ? (post.author_handle.startsWith('@') ? post.author_handle : `@${post.author_handle}`) : '';
  return html`<p class="dp-meta"><span class="dp-author" id="p-${post.id}-by">${post.author_name || handle}</span>${
    handle && handle !== post.author_name ? html` <span class="muted">${handle}</span>` : ''
  } · <a href="${postUrl(post)}" title="${t(locale, 'dp.permalink')}">${timeTag(post.published_at, locale)}</a>${
    post.updated_at ? html` <span class="muted">(${t(locale, 'dp.edited')})</span>` : ''
  }${post.origin === 'remote' && hostOf(post.ap_id) ? html` <span class="muted">${t(locale, 'dp.fromServer', { host: hostOf(post.ap_id) })}</span>` : ''}</p>`;
}

function replyForm(post: PostRow, viewer: PostViewer): SafeHtml {
  const { locale } = viewer;
  // Those who may not reply get one hint for the whole page (see threadFooter), not one per post.
  if (!viewer.canReply) return html``;
  return html`<details class="dp-reply"><summary>${t(locale, 'dp.reply')}</summary>
<form method="post" action="${postUrl(post)}/replies">${viewer.csrf}
<label for="r-${post.id}">${t(locale, 'dp.replyLabel')}</label>
<textarea id="r-${post.id}" name="body" rows="4" maxlength="10000" required></textarea>
<button type="submit">${t(locale, 'dp.replySubmit')}</button>
</form></details>`;
}

function reportForm(post: PostRow, viewer: PostViewer): SafeHtml {
  const { locale } = viewer;
  if (!viewer.signedIn || post.status !== 'visible') return html``;
  return html`<details class="dp-report"><summary>${t(locale, 'dp.report')}</summary>
<form method="post" action="${postUrl(post)}/report">${viewer.csrf}
<label for="rep-${post.id}">${t(locale, 'dp.reportLabel')}</label>
<textarea id="rep-${post.id}" name="reason" rows="2" maxlength="1000" required></textarea>
<button type="submit">${t(locale, 'dp.reportSubmit')}</button>
</form></details>`;
}

/** Its author may remove their own post (it stays as "message retiré" in the thread). */
function ownForm(post: PostRow, viewer: PostViewer): SafeHtml {
  if (!viewer.actorApId || post.author_ap_id !== viewer.actorApId || post.status === 'removed') return html``;
  const { locale } = viewer;
  return html`<details class="dp-delete"><summary>${t(locale, 'dp.delete')}</summary>
<form method="post" action="${postUrl(post)}/delete">${viewer.csrf}
<p>${t(locale, 'dp.deleteHint')}</p>
<button type="submit" class="danger">${t(locale, 'dp.deleteSubmit')}</button>
</form></details>`;
}

/** One post (without its replies): author, date, content or "removed", and its forms. */
export function postArticle(post: PostRow, viewer: PostViewer): SafeHtml {
  const { locale } = viewer;
  if (post.status === 'removed') {
    return html`<article class="dp-post dp-removed" aria-label="${t(locale, 'dp.removed')}"><p class="muted">${t(locale, 'dp.removed')}</p></article>`;
  }
  return html`<article class="dp-post${post.status === 'held' ? ' dp-held' : ''}" aria-labelledby="p-${post.id}-by">
${byline(post, locale)}
${post.status === 'held' ? html`<p class="notice">${t(locale, 'dp.heldNotice')}</p>` : ''}
<div class="dp-content">${raw(post.content_html)}</div>
${post.status === 'visible' ? replyForm(post, viewer) : ''}
${reportForm(post, viewer)}
${ownForm(post, viewer)}
${viewer.canModerate ? html`<p class="dp-actions"><a href="/moderation/posts/${post.id}">${t(locale, 'dp.moderate')}</a></p>` : ''}
</article>`;
}

interface Node {
  post: PostRow;
  level: number;
  children: Node[];
}

/** Whether the viewer may see this post at all (held posts: their author and the moderators). */
export function showsTo(post: PostRow, viewer: Pick<PostViewer, 'canModerate' | 'actorApId'>): boolean {
  if (post.status !== 'held') return true;
  return viewer.canModerate || (viewer.actorApId !== undefined && post.author_ap_id === viewer.actorApId);
}

/** Builds the reply tree from posts in display order (parents before their replies). */
export function buildTree(posts: readonly PostRow[], baseLevel = 0): Node[] {
  const roots: Node[] = [];
  const byApId = new Map<string, { node: Node; container: Node[] }>();
  for (const post of posts) {
    const parent = post.in_reply_to ? byApId.get(post.in_reply_to) : undefined;
    let node: Node;
    let container: Node[];
    if (!parent) {
      node = { post, level: baseLevel, children: [] };
      container = roots;
    } else if (parent.node.level < MAX_DEPTH) {
      node = { post, level: parent.node.level + 1, children: [] };
      container = parent.node.children;
    } else {
      // Too deep to nest further: shown right after its parent, at the same depth.
      node = { post, level: parent.node.level, children: [] };
      container = parent.container;
    }
    container.push(node);
    byApId.set(post.ap_id, { node, container });
  }
  return roots;
}

export function renderNode(node: Node, viewer: PostViewer): SafeHtml {
  return html`<li id="p-${node.post.id}" class="dp-item" data-post-id="${node.post.id}" data-level="${node.level}">
${postArticle(node.post, viewer)}
<ol class="dp-replies">${node.children.map((child) => renderNode(child, viewer))}</ol>
</li>`;
}

/** A list of threads in a group: title, author, replies, last activity. */
export function threadSummary(post: PostRow, locale: Locale, replies: number): SafeHtml {
  const title = post.title || post.content_text.slice(0, 80) || t(locale, 'dp.thread');
  return html`<li class="dg-thread" data-thread-id="${post.id}">
<h3><a href="${postUrl(post)}">${title}</a></h3>
<p class="dp-meta">${t(locale, 'dg.by', { name: post.author_name || post.author_handle })} · ${countText(locale, 'dg.replies', replies)} · ${t(locale, 'dg.lastActivity')} ${timeTag(post.last_activity_at, locale)}</p>
</li>`;
}

/** A one-line notice of a form's outcome (after a redirect), announced to screen readers. */
export function statusBox(message: string | undefined, kind: 'status' | 'alert' = 'status'): SafeHtml {
  if (!message) return html``;
  return kind === 'alert'
    ? html`<div role="alert" class="notice error"><p>${message}</p></div>`
    : html`<div role="status" class="notice"><p>${message}</p></div>`;
}

/**
 * Attributes of the element web/discussions.js watches: the live topic of the context, what kind
 * of page it is, and the texts it shows (in the page's language).
 */
export function liveAttributes(locale: Locale, topic: string, mode: 'group' | 'thread' | 'comments', threadId?: string): SafeHtml {
  return html` data-dp-live data-topic="${topic}" data-mode="${mode}"${threadId ? html` data-thread-id="${threadId}"` : ''} data-max-depth="${MAX_DEPTH}" data-new-label="${t(
    locale,
    'dg.liveNew',
  )}" data-reload-label="${t(locale, 'dg.liveReload')}" data-reload-link="${t(locale, 'dg.liveReloadLink')}" data-removed-label="${t(locale, 'dp.removed')}"`;
}

/** "aucune réponse", "1 réponse", "3 réponses": keys `${base}.0`, `.1` and `.n`. */
export function countText(locale: Locale, base: string, count: number): string {
  return t(locale, `${base}.${count === 0 ? '0' : count === 1 ? '1' : 'n'}`, { count });
}

/** Under a thread: how to take part when the viewer cannot reply yet. */
export function threadFooter(viewer: PostViewer, groupLink: string): SafeHtml {
  const { locale } = viewer;
  if (viewer.canReply) return html``;
  return viewer.signedIn
    ? html`<p class="notice"><a href="${groupLink}">${t(locale, 'dp.joinToReply')}</a></p>`
    : html`<p class="notice"><a href="/members/sign-in?next=${encodeURIComponent(viewer.back)}">${t(locale, 'dp.signInToReply')}</a></p>`;
}
