// Rendering a group's digest: the MJML templates (templates/digest*.mjml) filled with the new
// posts and compiled ONCE per group, language and window; what differs per follower (greeting,
// unsubscribe and "my data" links) stays a %%PLACEHOLDER%%, filled per message by joining
// segments with the escaped values (the newsletter's machinery, newsletters.render.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locale } from '../config.ts';
import { qpFragment } from '../mail/mime.ts';
import type { Branding } from '../newsletters/branding.settings.ts';
import { type CompiledIssue, fill, segment } from '../newsletters/newsletters.render.ts';
import { t } from '../web/i18n.ts';
import type { DigestPost } from './digest.repository.ts';
import './digest.messages.ts';

type Mjml = typeof import('mjml');
let mjml: Mjml | undefined;
async function loadMjml(): Promise<Mjml> {
  mjml ??= ((await import('mjml')) as unknown as { default: Mjml }).default;
  return mjml;
}

const TEMPLATES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'templates');
const sources = new Map<string, string>();
function template(name: string): string {
  let source = sources.get(name);
  if (source === undefined) {
    source = fs.readFileSync(path.join(TEMPLATES, name), 'utf8');
    sources.set(name, source);
  }
  return source;
}

export interface DigestContent {
  group: { name: string; url: string };
  posts: DigestPost[];
  /** All new posts in the window (more than `posts` when the digest was capped). */
  total: number;
}

export interface DigestRenderSettings {
  instanceName: string;
  publicUrl: string;
  branding: Branding;
  locale: Locale;
}

/** A post's public page: its thread page on this instance, where one reads and replies. */
export function postLink(publicUrl: string, post: Pick<DigestPost, 'id'>): string {
  return `${publicUrl}/discussions/posts/${post.id}`;
}

function excerpt(text: string, max = 400): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

function titleOf(post: DigestPost, locale: Locale): string {
  if (post.depth === 0) return post.title || excerpt(post.text, 80);
  return t(locale, 'digest.mail.reply', { thread: post.threadTitle || '…' });
}

function metaOf(post: DigestPost, locale: Locale): string {
  const date = post.publishedAt.toLocaleString(locale === 'fr' ? 'fr-FR' : 'en-GB', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'Europe/Paris',
  });
  return `${post.authorName} · ${date}`;
}

export function digestSubject(locale: Locale, groupName: string, total: number): string {
  return total === 1
    ? t(locale, 'digest.mail.subjectOne', { group: groupName })
    : t(locale, 'digest.mail.subject', { group: groupName, count: total });
}

export async function compileDigest(content: DigestContent, rs: DigestRenderSettings): Promise<CompiledIssue> {
  const { locale, branding } = rs;
  const readLabel = t(locale, 'digest.mail.read');
  const subject = digestSubject(locale, content.group.name, content.total);
  // Every value goes through fill's {{escaped}} form (which also defuses "%%"): a post can
  // neither inject markup nor forge a placeholder.
  const items = content.posts
    .map((p) =>
      fill(template('digest-post.mjml'), {
        primaryColor: branding.primaryColor,
        url: postLink(rs.publicUrl, p),
        title: titleOf(p, locale),
        meta: metaOf(p, locale),
        excerpt: excerpt(p.text),
        readLabel,
      }),
    )
    .join('\n');
  const hidden = content.total - content.posts.length;
  const moreText = hidden > 0 ? t(locale, 'digest.mail.more', { count: hidden }) : '';
  const labels = {
    footerReason: t(locale, 'digest.mail.reason', { group: content.group.name, instance: rs.instanceName }),
    unsubscribeLabel: t(locale, 'digest.mail.unsubscribe'),
    myDataLabel: t(locale, 'digest.mail.mydata'),
    groupLabel: t(locale, 'digest.mail.group'),
  };
  const source = fill(template('digest.mjml'), {
    lang: locale,
    subject,
    preview: content.posts[0] ? titleOf(content.posts[0], locale) : '',
    textColor: branding.textColor,
    primaryColor: branding.primaryColor,
    backgroundColor: branding.backgroundColor,
    groupName: content.group.name,
    heading: t(locale, 'digest.mail.heading'),
    instanceName: rs.instanceName,
    items,
    more: moreText ? fill('<mj-text font-size="14px" padding="0 0 8px">{{more}}</mj-text>', { more: moreText }) : '',
    groupUrl: content.group.url,
    ...labels,
  });
  const result = await (await loadMjml())(source, { validationLevel: 'soft', keepComments: false });
  const html = segment(result.html);

  // The plain-text alternative, from the same data (never from the HTML).
  const lines = ['%%GREETING%%', ''];
  for (const p of content.posts) {
    lines.push(`## ${titleOf(p, locale).replaceAll('%%', '% %')}`, metaOf(p, locale).replaceAll('%%', '% %'));
    lines.push(excerpt(p.text).replaceAll('%%', '% %'), `${readLabel} : ${postLink(rs.publicUrl, p)}`, '');
  }
  if (moreText) lines.push(moreText, '');
  lines.push(`${labels.groupLabel} : ${content.group.url}`, '', '--', labels.footerReason);
  lines.push(`${labels.unsubscribeLabel} : %%UNSUBSCRIBE_URL%%`, `${labels.myDataLabel} : %%MYDATA_URL%%`);
  const text = segment(lines.join('\n'));
  return {
    subject,
    html,
    text,
    htmlQp: { parts: html.parts.map(qpFragment), slots: html.slots },
    textQp: { parts: text.parts.map(qpFragment), slots: text.slots },
    htmlBytes: Buffer.byteLength(result.html),
    warnings: result.errors.map((e) => e.formattedMessage),
  };
}
