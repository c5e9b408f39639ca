// Rendering an issue: the MJML templates (templates/*.mjml) are filled with the issue's content
// and compiled ONCE per issue and language; what differs per subscriber (greeting, links to
// their preferences, unsubscribe and data pages) is left as %%PLACEHOLDERS%% in the compiled
// HTML, cut into segments, and joined with the escaped values for each message. Compiling MJML
// for each of 50,000 subscribers would cost minutes; joining segments costs microseconds.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locale } from '../config.ts';
import { qpFragment } from '../mail/mime.ts';
import { licenceName } from '../resources/licences.ts';
import { escapeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import type { Branding } from './branding.settings.ts';
import type { IssueAnnouncement, IssueResource } from './content.repository.ts';
import type { IssueKind } from './newsletters.tables.ts';
import './newsletters.messages.ts';

// MJML takes most of a second to load: load it on the first compile, not at every start.
type Mjml = typeof import('mjml');
let mjml: Mjml | undefined;
async function loadMjml(): Promise<Mjml> {
  mjml ??= ((await import('mjml')) as unknown as { default: Mjml }).default;
  return mjml;
}

export const MAX_HTML_BYTES = 100 * 1024;
const TEMPLATES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'templates');
const SLOTS = ['GREETING', 'PREFERENCES_URL', 'UNSUBSCRIBE_URL', 'MYDATA_URL'] as const;
export type Slot = (typeof SLOTS)[number];
export type SlotValues = Record<Slot, string>;

const templateCache = new Map<string, string>();
function template(name: string): string {
  let source = templateCache.get(name);
  if (source === undefined) {
    source = fs.readFileSync(path.join(TEMPLATES, name), 'utf8');
    templateCache.set(name, source);
  }
  return source;
}

/** `{{name}}` is replaced escaped, `{{{name}}}` as is (only for MJML we built ourselves). */
export function fill(source: string, values: Record<string, string>): string {
  return source.replace(/\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}/g, (_, rawName: string | undefined, name: string | undefined) => {
    if (rawName) return values[rawName] ?? '';
    return escapeHtml(values[name!] ?? '').replaceAll('%%', '%&#37;');
  });
}

export interface IssueContent {
  id: string;
  kind: IssueKind;
  subject: string;
  introduction: string;
  announcements: IssueAnnouncement[];
  /** Shared resources, shown as links to their pages (never attached). */
  resources?: IssueResource[];
}

export interface RenderSettings {
  instanceName: string;
  publicUrl: string;
  branding: Branding;
  locale: Locale;
}

/** A text cut at its placeholders: parts[0] slot[0] parts[1] slot[1] ... parts[n]. */
export interface Segmented {
  parts: string[];
  slots: Slot[];
}

export interface CompiledIssue {
  subject: string;
  html: Segmented;
  text: Segmented;
  /** The same, each part already quoted-printable encoded (for composeRaw). */
  htmlQp: Segmented;
  textQp: Segmented;
  /** Size of the HTML of one message (with typical link lengths), in bytes. */
  htmlBytes: number;
  warnings: string[];
}

export function segment(source: string): Segmented {
  const parts: string[] = [];
  const slots: Slot[] = [];
  const re = /%%([A-Z_]+)%%/g;
  let last = 0;
  for (const m of source.matchAll(re)) {
    if (!(SLOTS as readonly string[]).includes(m[1]!)) continue;
    parts.push(source.slice(last, m.index));
    slots.push(m[1] as Slot);
    last = m.index! + m[0].length;
  }
  parts.push(source.slice(last));
  return { parts, slots };
}

function join(s: Segmented, values: SlotValues, escapeValues: boolean): string {
  let out = s.parts[0]!;
  for (let i = 0; i < s.slots.length; i++) {
    const v = values[s.slots[i]!];
    out += (escapeValues ? escapeHtml(v) : v) + s.parts[i + 1]!;
  }
  return out;
}

export function personalise(compiled: CompiledIssue, values: SlotValues): { html: string; text: string } {
  return { html: join(compiled.html, values, true), text: join(compiled.text, values, false) };
}

function joinQp(s: Segmented, values: SlotValues, escapeValues: boolean): string {
  let out = s.parts[0]!;
  for (let i = 0; i < s.slots.length; i++) {
    const v = values[s.slots[i]!];
    out += qpFragment(escapeValues ? escapeHtml(v) : v) + s.parts[i + 1]!;
  }
  return out;
}

/** The two bodies of one message, quoted-printable encoded, ready for composeRaw. */
export function personaliseQp(compiled: CompiledIssue, values: SlotValues): { htmlQp: string; textQp: string } {
  return { htmlQp: joinQp(compiled.htmlQp, values, true), textQp: joinQp(compiled.textQp, values, false) };
}

function piecesQp(s: Segmented, values: SlotValues, escapeValues: boolean): string[] {
  const out = [s.parts[0]!];
  for (let i = 0; i < s.slots.length; i++) {
    const v = values[s.slots[i]!];
    out.push(qpFragment(escapeValues ? escapeHtml(v) : v), s.parts[i + 1]!);
  }
  return out;
}

/** The same as personaliseQp, left in pieces (the issue's encoded parts, shared by every message,
 * and this subscriber's values): composeRawBuffer copies them into the message without joining. */
export function personaliseQpPieces(compiled: CompiledIssue, values: SlotValues): { htmlQp: string[]; textQp: string[] } {
  return { htmlQp: piecesQp(compiled.htmlQp, values, true), textQp: piecesQp(compiled.textQp, values, false) };
}

function encodeParts(s: Segmented): Segmented {
  return { parts: s.parts.map(qpFragment), slots: s.slots };
}

export function archiveUrl(publicUrl: string, issueId: string): string {
  return `${publicUrl}/newsletters/${issueId}`;
}

function meta(a: IssueAnnouncement, locale: Locale): string {
  const date = a.publishedAt
    ? a.publishedAt.toLocaleDateString(locale === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'long', timeZone: 'Europe/Paris' })
    : '';
  const from = a.origin === 'remote' && a.networkName ? t(locale, 'issue.from', { network: a.networkName }) : '';
  return [from, date].filter(Boolean).join(' · ');
}

function summaryOf(a: IssueAnnouncement): string {
  const text = a.summary || a.contentHtml.replace(/<[^>]*>/g, ' ').replace(/&[a-z#0-9]+;/gi, ' ');
  const clean = text.replace(/\s+/g, ' ').trim();
  return clean.length > 400 ? `${clean.slice(0, 397)}…` : clean;
}

function resourceMeta(r: IssueResource, locale: Locale): string {
  const from = r.origin === 'remote' && r.networkName ? t(locale, 'issue.from', { network: r.networkName }) : '';
  return [from, `${t(locale, 'issue.licence')} : ${licenceName(r.licence, locale)}`].filter(Boolean).join(' · ');
}

/** The "Ressources" section: title linked to the page, a one-line excerpt, the licence. */
function resourcesSection(resources: IssueResource[], locale: Locale): string {
  if (resources.length === 0) return '';
  const items = resources
    .map(
      (r) =>
        `<mj-text css-class="item-title" font-size="16px" font-weight="bold" padding="8px 0 2px"><a href="${escapeHtml(r.url)}">${escapeHtml(r.title)}</a></mj-text>` +
        (r.excerpt ? `<mj-text padding="0 0 2px">${escapeHtml(r.excerpt)}</mj-text>` : '') +
        `<mj-text font-size="13px" color="#555555" padding="0 0 4px">${escapeHtml(resourceMeta(r, locale))}</mj-text>`,
    )
    .join('\n')
    .replaceAll('%%', '%&#37;');
  return fill(template('resources.mjml'), { heading: t(locale, 'issue.resources'), items });
}

function paragraphs(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

// An issue is compiled for its preview, again for the size check when it is sent, and again by
// the sender: the same input each time, in the same process when it runs everything. The last few
// results are kept (a compile is 20-50 ms, the first one of a process also loads MJML).
const compiledKept = new Map<string, Promise<CompiledIssue>>();
const COMPILED_KEPT = 8;

/** The issue compiled for one language, or the same result as a moment ago for the same input. */
export function compileIssue(content: IssueContent, rs: RenderSettings): Promise<CompiledIssue> {
  const key = createHash('sha256')
    .update(JSON.stringify([content, rs]))
    .digest('base64');
  let compiled = compiledKept.get(key);
  if (compiled) compiledKept.delete(key);
  else {
    compiled = compileFresh(content, rs);
    compiled.catch(() => compiledKept.delete(key));
  }
  compiledKept.set(key, compiled);
  if (compiledKept.size > COMPILED_KEPT) compiledKept.delete(compiledKept.keys().next().value!);
  return compiled;
}

async function compileFresh(content: IssueContent, rs: RenderSettings): Promise<CompiledIssue> {
  const { locale, branding } = rs;
  const readMore = t(locale, 'issue.readMore');
  const items = content.announcements
    .map((a) =>
      fill(template('item.mjml'), {
        primaryColor: branding.primaryColor,
        url: a.url,
        title: a.title,
        meta: meta(a, locale),
        summary: summaryOf(a),
        readMore,
      }),
    )
    .join('\n');
  const resources = content.resources ?? [];
  const intro = paragraphs(content.introduction)
    .map((p) => `<mj-text padding="0 0 12px">${escapeHtml(p).replaceAll('%%', '%&#37;')}</mj-text>`)
    .join('\n');
  const archive = archiveUrl(rs.publicUrl, content.id);
  const labels = {
    archiveLabel: t(locale, 'issue.archive'),
    footerReason: t(locale, 'issue.reason', { instance: rs.instanceName }),
    preferencesLabel: t(locale, 'issue.preferences'),
    unsubscribeLabel: t(locale, 'issue.unsubscribe'),
    myDataLabel: t(locale, 'issue.mydata'),
  };
  const source = fill(template('issue.mjml'), {
    lang: locale,
    subject: content.subject,
    preview: paragraphs(content.introduction)[0]?.slice(0, 140) ?? content.announcements[0]?.title ?? resources[0]?.title ?? '',
    textColor: branding.textColor,
    primaryColor: branding.primaryColor,
    backgroundColor: branding.backgroundColor,
    logo: branding.logoUrl
      ? `<mj-image src="${escapeHtml(branding.logoUrl)}" alt="${escapeHtml(rs.instanceName)}" width="120px" align="left" padding="0 0 8px" />`
      : '',
    instanceName: rs.instanceName,
    heading: t(locale, `issue.heading.${content.kind}`),
    introduction: intro,
    items,
    resources: resourcesSection(resources, locale),
    archiveUrl: archive,
    ...labels,
  });
  const result = await (await loadMjml())(source, { validationLevel: 'soft', keepComments: false });
  const html = segment(result.html);

  const lines = [`%%GREETING%%`, '', ...paragraphs(content.introduction).flatMap((p) => [p, ''])];
  for (const a of content.announcements) {
    lines.push(`## ${a.title}`);
    const m = meta(a, locale);
    if (m) lines.push(m);
    lines.push(summaryOf(a), `${readMore} : ${a.url}`, '');
  }
  if (resources.length > 0) lines.push(`# ${t(locale, 'issue.resources')}`, '');
  for (const r of resources) {
    lines.push(`## ${r.title}`);
    if (r.excerpt) lines.push(r.excerpt);
    lines.push(resourceMeta(r, locale), r.url, '');
  }
  lines.push(`${labels.archiveLabel} : ${archive}`, '', '--', labels.footerReason);
  lines.push(
    `${labels.preferencesLabel} : %%PREFERENCES_URL%%`,
    `${labels.unsubscribeLabel} : %%UNSUBSCRIBE_URL%%`,
    `${labels.myDataLabel} : %%MYDATA_URL%%`,
  );
  const text = segment(lines.join('\n'));

  const sample = `${rs.publicUrl}/newsletter/preferences?token=${'x'.repeat(120)}`;
  const compiled: CompiledIssue = {
    subject: content.subject,
    html,
    text,
    htmlQp: encodeParts(html),
    textQp: encodeParts(text),
    htmlBytes: 0,
    warnings: result.errors.map((e) => e.formattedMessage),
  };
  const one = personalise(compiled, {
    GREETING: t(locale, 'issue.greeting', { name: 'x'.repeat(40) }),
    PREFERENCES_URL: sample,
    UNSUBSCRIBE_URL: sample,
    MYDATA_URL: sample,
  });
  compiled.htmlBytes = Buffer.byteLength(one.html);
  return compiled;
}
