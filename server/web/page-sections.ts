// Blocks that other capabilities add under a content page (an announcement, a resource) without
// the page's owner knowing them: the discussions capability adds its comments there. Like the home
// sections, they are kept per instance (several instances run in one process in tests).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../core/context.ts';
import { html, type SafeHtml } from './html.ts';

export type PageSectionKind = 'announcement' | 'resource';

/** What the page shows: enough for a section to find its own data. */
export interface PageSectionSubject {
  id: string;
  /** False for a draft or an unpublished item that only staff see: sections may stay silent. */
  public: boolean;
}

export type PageSection = (request: FastifyRequest, reply: FastifyReply, subject: PageSectionSubject) => Promise<SafeHtml>;

const sections = new WeakMap<AppContext, Map<PageSectionKind, PageSection[]>>();

/** Adds a block under every page of `kind` of this instance, in order of registration. */
export function registerPageSection(ctx: AppContext, kind: PageSectionKind, render: PageSection): void {
  let byKind = sections.get(ctx);
  if (!byKind) {
    byKind = new Map();
    sections.set(ctx, byKind);
  }
  const list = byKind.get(kind) ?? [];
  list.push(render);
  byKind.set(kind, list);
}

/** The blocks registered for `kind`, rendered in order (empty when there are none). */
export async function renderPageSections(
  ctx: AppContext,
  kind: PageSectionKind,
  request: FastifyRequest,
  reply: FastifyReply,
  subject: PageSectionSubject,
): Promise<SafeHtml> {
  const list = sections.get(ctx)?.get(kind) ?? [];
  const rendered: SafeHtml[] = [];
  for (const render of list) rendered.push(await render(request, reply, subject));
  return html`${rendered}`;
}
