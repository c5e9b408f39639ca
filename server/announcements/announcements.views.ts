// HTML pieces shared by the announcement pages and the home page: a card in a list, a list that
// the live feed (web/live.js) can add to, the links to the feeds, dates.
import type { Locale } from '../config.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import './announcements.messages.ts';
import type { AnnouncementRow } from './announcements.repository.ts';

const formatters = new Map<Locale, Intl.DateTimeFormat>();

export function formatDate(date: Date, locale: Locale): string {
  let formatter = formatters.get(locale);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'long', timeZone: 'Europe/Paris' });
    formatters.set(locale, formatter);
  }
  return formatter.format(date);
}

export function timeTag(date: Date, locale: Locale): SafeHtml {
  return html`<time datetime="${new Date(date).toISOString()}">${formatDate(new Date(date), locale)}</time>`;
}

export type Heading = 'h2' | 'h3';

/** One announcement in a list: title (link to its page), origin and date, summary. */
export function announcementCard(row: AnnouncementRow, locale: Locale, heading: Heading): SafeHtml {
  const title = html`<a href="/announcements/${row.id}">${row.title}</a>`;
  const network = row.origin === 'remote' ? html`<span class="ann-network">${row.network_name ?? row.network_handle}</span> · ` : '';
  return html`<li data-id="${row.id}"><article class="ann-card">
${heading === 'h2' ? html`<h2>${title}</h2>` : html`<h3>${title}</h3>`}
<p class="ann-meta">${network}${row.published_at ? timeTag(row.published_at, locale) : ''}</p>
${row.summary ? html`<p>${row.summary}</p>` : ''}
</article></li>`;
}

export interface LiveListOptions {
  /** Which new announcements the live feed adds to this list. */
  origin: 'local' | 'remote' | 'all';
  network?: string;
  heading: Heading;
  /** The live feed keeps the list at this length. */
  max: number;
  /** Only the first page of a list is live: older pages do not change. */
  live: boolean;
}

/** A list of announcements; when live, web/live.js inserts new ones at the top (announced politely). */
export function announcementList(rows: readonly AnnouncementRow[], locale: Locale, options: LiveListOptions): SafeHtml {
  const attributes = options.live
    ? html` aria-live="polite" aria-relevant="additions" data-live-topic="announcements" data-origin="${options.origin}" data-network="${
        options.network ?? ''
      }" data-heading="${options.heading}" data-max="${options.max}" data-new-label="${t(locale, 'ann.liveNew')}" data-lang="${locale}"`
    : '';
  return html`<ul class="ann-list"${attributes}>${rows.map((row) => announcementCard(row, locale, options.heading))}</ul>
${rows.length === 0 ? html`<p class="muted ann-empty">${t(locale, 'ann.none')}</p>` : ''}`;
}

/** <link rel="alternate"> for the feeds, to put in <head>. */
export function feedLinks(instanceName: string, locale: Locale): SafeHtml {
  const local = `${instanceName} — ${t(locale, 'ann.feedsLocal')}`;
  const network = `${instanceName} — ${t(locale, 'ann.feedsNetwork')}`;
  return html`<link rel="alternate" type="application/rss+xml" title="${local} (RSS)" href="/feed.rss">
<link rel="alternate" type="application/atom+xml" title="${local} (Atom)" href="/feed.atom">
<link rel="alternate" type="application/rss+xml" title="${network} (RSS)" href="/network/feed.rss">
<link rel="alternate" type="application/atom+xml" title="${network} (Atom)" href="/network/feed.atom">
<link rel="stylesheet" href="/static/announcements.css">`;
}

/** Visible links to the feeds, for readers who use a feed reader. */
export function feedBox(locale: Locale): SafeHtml {
  const colon = locale === 'fr' ? ' : ' : ': ';
  return html`<aside class="ann-feeds" aria-labelledby="ann-feeds-title">
<h2 id="ann-feeds-title">${t(locale, 'ann.feeds')}</h2>
<ul>
<li>${t(locale, 'ann.feedsLocal')}${colon}<a href="/feed.rss">${t(locale, 'ann.feedRss')}</a> · <a href="/feed.atom">${t(locale, 'ann.feedAtom')}</a></li>
<li>${t(locale, 'ann.feedsNetwork')}${colon}<a href="/network/feed.rss">${t(locale, 'ann.feedRss')}</a> · <a href="/network/feed.atom">${t(locale, 'ann.feedAtom')}</a></li>
</ul>
</aside>`;
}
