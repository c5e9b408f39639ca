// RSS 2.0 and Atom feeds: /feed.rss and /feed.atom for this network's announcements,
// /network/feed.rss and /network/feed.atom for everything shown here (ours and those received).
// Every text is XML-escaped and stripped of characters XML forbids; HTML goes in as escaped text.
import { Type } from 'typebox';
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { type AnnouncementRow, listAnnouncements } from './announcements.repository.ts';
import './announcements.messages.ts';

const FEED_SIZE = 30;

// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML 1.0 forbids are removed on purpose.
const FORBIDDEN = /[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;
const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function xmlEscape(value: string): string {
  return value.replace(FORBIDDEN, '').replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

interface FeedInfo {
  title: string;
  description: string;
  selfUrl: string;
  pageUrl: string;
  publicUrl: string;
  instanceName: string;
  language: string;
}

const pageOf = (info: FeedInfo, row: AnnouncementRow) => `${info.publicUrl}/announcements/${row.id}`;
const authorOf = (info: FeedInfo, row: AnnouncementRow) =>
  row.origin === 'remote' ? (row.network_name ?? row.network_handle ?? '') : info.instanceName;

export function renderRss(info: FeedInfo, rows: readonly AnnouncementRow[]): string {
  const items = rows.map((row) => {
    const categories = row.tags.map((tag) => `<category>${xmlEscape(tag)}</category>`).join('');
    return `<item>
<title>${xmlEscape(row.title)}</title>
<link>${xmlEscape(pageOf(info, row))}</link>
<guid isPermaLink="${row.origin === 'local' ? 'true' : 'false'}">${xmlEscape(row.ap_id)}</guid>
${row.published_at ? `<pubDate>${new Date(row.published_at).toUTCString()}</pubDate>` : ''}
<description>${xmlEscape(row.summary)}</description>
<content:encoded>${xmlEscape(row.content_html)}</content:encoded>
<dc:creator>${xmlEscape(authorOf(info, row))}</dc:creator>${categories}
</item>`;
  });
  const latest = rows[0]?.published_at ? new Date(rows[0].published_at) : new Date(0);
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>${xmlEscape(info.title)}</title>
<link>${xmlEscape(info.pageUrl)}</link>
<description>${xmlEscape(info.description)}</description>
<language>${xmlEscape(info.language)}</language>
<atom:link href="${xmlEscape(info.selfUrl)}" rel="self" type="application/rss+xml"/>
<lastBuildDate>${latest.toUTCString()}</lastBuildDate>
${items.join('\n')}
</channel>
</rss>
`;
}

export function renderAtom(info: FeedInfo, rows: readonly AnnouncementRow[]): string {
  const entries = rows.map((row) => {
    const published = new Date(row.published_at ?? row.created_at).toISOString();
    const categories = row.tags.map((tag) => `<category term="${xmlEscape(tag)}"/>`).join('');
    return `<entry>
<id>${xmlEscape(row.ap_id)}</id>
<title type="text">${xmlEscape(row.title)}</title>
<link rel="alternate" type="text/html" href="${xmlEscape(pageOf(info, row))}"/>
<published>${published}</published>
<updated>${new Date(row.updated_at).toISOString()}</updated>
<author><name>${xmlEscape(authorOf(info, row))}</name></author>
<summary type="text">${xmlEscape(row.summary)}</summary>
<content type="html">${xmlEscape(row.content_html)}</content>${categories}
</entry>`;
  });
  const updated = rows.reduce((max, row) => Math.max(max, new Date(row.updated_at).getTime()), 0);
  return `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${xmlEscape(info.language)}">
<id>${xmlEscape(info.selfUrl)}</id>
<title type="text">${xmlEscape(info.title)}</title>
<subtitle type="text">${xmlEscape(info.description)}</subtitle>
<link rel="self" type="application/atom+xml" href="${xmlEscape(info.selfUrl)}"/>
<link rel="alternate" type="text/html" href="${xmlEscape(info.pageUrl)}"/>
<updated>${new Date(updated).toISOString()}</updated>
<author><name>${xmlEscape(info.instanceName)}</name></author>
${entries.join('\n')}
</feed>
`;
}

export async function registerAnnouncementFeeds(app: AppServer, ctx: AppContext): Promise<void> {
  const { publicUrl, instanceName, defaultLocale } = ctx.config;
  const fr = defaultLocale === 'fr';
  const feeds = [
    { path: '/feed', origin: 'local' as const, page: '/announcements?origin=local', title: instanceName },
    {
      path: '/network/feed',
      origin: 'all' as const,
      page: '/announcements',
      title: `${instanceName} — ${fr ? 'toutes les annonces' : 'all announcements'}`,
    },
  ];
  for (const feed of feeds) {
    for (const format of ['rss', 'atom'] as const) {
      const path = `${feed.path}.${format}`;
      app.get(path, { schema: { querystring: Type.Object({}) } }, async (_request, reply) => {
        const rows = await listAnnouncements(ctx.db, { origin: feed.origin, limit: FEED_SIZE });
        const info: FeedInfo = {
          title: feed.title,
          description:
            feed.origin === 'local'
              ? fr
                ? `Les annonces de ${instanceName}`
                : `Announcements of ${instanceName}`
              : fr
                ? `Les annonces de ${instanceName} et des réseaux qu’il suit`
                : `Announcements of ${instanceName} and of the networks it follows`,
          selfUrl: `${publicUrl}${path}`,
          pageUrl: `${publicUrl}${feed.page}`,
          publicUrl,
          instanceName,
          language: defaultLocale,
        };
        return reply
          .type(format === 'rss' ? 'application/rss+xml; charset=utf-8' : 'application/atom+xml; charset=utf-8')
          .header('cache-control', 'public, max-age=300')
          .send(format === 'rss' ? renderRss(info, rows) : renderAtom(info, rows));
      });
    }
  }
}
