// The public archive: every issue that went out has a page (/newsletters/:id, linked from the
// email) and a print edition (/newsletters/:id/print) for the AMAP's notice board: A4, black and
// white, each link printed as a short address and a QR code (inline SVG: no request elsewhere).
import QRCode from 'qrcode';
import { Type } from 'typebox';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { html, raw } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { pageContext, sendPage } from '../web/layout.ts';
import { announcementsByIds, type IssueAnnouncement, type IssueResource, resourcesByIds } from './content.repository.ts';
import { findIssue, type Issue, listSentIssues } from './newsletters.repository.ts';
import './newsletters.messages.ts';

function paragraphs(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

/** `amap-aura.org/announcements/3f2a…`: what a reader can type from paper. */
export function shortAddress(url: string): string {
  try {
    const u = new URL(url);
    const full = `${u.host}${u.pathname === '/' ? '' : u.pathname}`;
    return full.length > 48 ? `${full.slice(0, 47)}…` : full;
  } catch {
    return url.slice(0, 48);
  }
}

async function publicIssue(ctx: AppContext, id: string): Promise<{ issue: Issue; items: IssueAnnouncement[]; resources: IssueResource[] }> {
  const issue = await findIssue(ctx.db, id);
  if (!issue || (issue.status !== 'sending' && issue.status !== 'sent' && issue.status !== 'paused')) {
    throw new AppError('not_found', 'No such newsletter.');
  }
  return {
    issue,
    items: await announcementsByIds(ctx.db, issue.announcementIds),
    resources: await resourcesByIds(ctx.db, issue.resourceIds),
  };
}

function dateOf(issue: Issue, locale: 'fr' | 'en'): string {
  return (issue.startedAt ?? issue.createdAt).toLocaleDateString(locale === 'fr' ? 'fr-FR' : 'en-GB', {
    dateStyle: 'long',
    timeZone: 'Europe/Paris',
  });
}

const PRINT_CSS = `
@page { size: A4; margin: 15mm; }
body { font-family: Georgia, "Times New Roman", serif; color: #000; background: #fff; max-width: 180mm; margin: 0 auto; font-size: 11pt; line-height: 1.4; }
h1 { font-size: 20pt; margin: 0 0 2mm; } h2 { font-size: 13pt; margin: 0 0 1mm; }
header { border-bottom: 2px solid #000; margin-bottom: 6mm; padding-bottom: 2mm; }
.item { display: flex; gap: 5mm; border-bottom: 1px solid #000; padding: 4mm 0; break-inside: avoid; }
.item .text { flex: 1; } .qr { width: 26mm; height: 26mm; flex: none; } .qr svg { width: 100%; height: 100%; }
.addr { font-family: "Courier New", monospace; font-size: 9.5pt; }
.meta { font-style: italic; font-size: 9.5pt; }
.noprint { margin: 4mm 0; }
a { color: #000; text-decoration: none; }
@media print { .noprint { display: none; } }
`;

export async function newsletterArchive(app: AppServer, ctx: AppContext): Promise<void> {
  const Params = Type.Object({ id: Type.String({ maxLength: 64 }) });
  const Page = { 200: Type.String(), 404: Type.Any() };

  app.get('/newsletters', { schema: { response: { 200: Type.String() } } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    const issues = await listSentIssues(ctx.db, 100);
    return sendPage(reply, request, ctx, {
      title: t(locale, 'issue.heading.manual'),
      body: html`<h1>${t(locale, 'issue.heading.manual')}</h1>
<ul>${issues.map((i) => html`<li><a href="/newsletters/${i.id}">${i.subject}</a> — ${dateOf(i, locale)}</li>`)}</ul>
<p><a href="/newsletter">${locale === 'fr' ? 'S’abonner' : 'Subscribe'}</a></p>`,
    });
  });

  app.get('/newsletters/:id', { schema: { params: Params, response: Page } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    const { issue, items, resources } = await publicIssue(ctx, request.params.id);
    return sendPage(reply, request, ctx, {
      title: issue.subject,
      body: html`<article class="newsletter">
<h1>${issue.subject}</h1>
<p class="muted">${dateOf(issue, locale)} · <a href="/newsletters/${issue.id}/print">${locale === 'fr' ? 'Version à imprimer' : 'Print edition'}</a></p>
${paragraphs(issue.introduction).map((p) => html`<p>${p}</p>`)}
${items.map(
  (a) => html`<section>
<h2><a href="${a.url}">${a.title}</a></h2>
${a.origin === 'remote' && a.networkName ? html`<p class="muted">${t(locale, 'issue.from', { network: a.networkName })}</p>` : ''}
<p>${a.summary}</p>
</section>`,
)}
${
  resources.length === 0
    ? ''
    : html`<section><h2>${t(locale, 'issue.resources')}</h2><ul>${resources.map(
        (r) => html`<li><a href="${r.url}">${r.title}</a>${r.excerpt ? html` — ${r.excerpt}` : ''}</li>`,
      )}</ul></section>`
}
<p><a href="/newsletter">${locale === 'fr' ? 'Recevoir la lettre par courriel' : 'Get the newsletter by email'}</a></p>
</article>`,
    });
  });

  app.get('/newsletters/:id/print', { schema: { params: Params, response: Page } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    const { issue, items } = await publicIssue(ctx, request.params.id);
    const archive = `${ctx.config.publicUrl}/newsletters/${issue.id}`;
    const qr = async (url: string) =>
      raw(await QRCode.toString(url, { type: 'svg', margin: 0, errorCorrectionLevel: 'M', color: { dark: '#000000', light: '#ffffff' } }));
    const blocks = [];
    for (const a of items) {
      blocks.push(html`<div class="item"><div class="text">
<h2>${a.title}</h2>
${a.origin === 'remote' && a.networkName ? html`<p class="meta">${t(locale, 'issue.from', { network: a.networkName })}</p>` : ''}
<p>${a.summary}</p>
<p class="addr">${shortAddress(a.url)}</p>
</div><div class="qr" role="img" aria-label="${locale === 'fr' ? 'Code QR vers' : 'QR code to'} ${shortAddress(a.url)}">${await qr(a.url)}</div></div>`);
    }
    const page = html`<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${issue.subject} · ${ctx.config.instanceName}</title>
<style>${raw(PRINT_CSS)}</style></head>
<body>
<header><p>${ctx.config.instanceName} · ${dateOf(issue, locale)}</p><h1>${issue.subject}</h1></header>
<p class="noprint"><a href="/newsletters/${issue.id}">${locale === 'fr' ? 'Retour à la version en ligne' : 'Back to the online version'}</a></p>
<main>
${paragraphs(issue.introduction).map((p) => html`<p>${p}</p>`)}
${blocks}
</main>
<footer><div class="item"><div class="text"><p>${locale === 'fr' ? 'Cette lettre en ligne, et l’abonnement par courriel :' : 'This newsletter online, and the email subscription:'}</p>
<p class="addr">${shortAddress(archive)}</p><p class="addr">${shortAddress(`${ctx.config.publicUrl}/newsletter`)}</p></div>
<div class="qr" role="img" aria-label="${shortAddress(archive)}">${await qr(archive)}</div></div></footer>
</body></html>`;
    return reply.type('text/html; charset=utf-8').send(page.value);
  });
}
