// The REST shapes of the library, and how stored rows become them.
import { Type } from 'typebox';
import type { Locale } from '../config.ts';
import { creditLine, findLicence, licenceName } from './licences.ts';
import type { FileRow, ResourceRow } from './resources.repository.ts';

export const FileSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.Union([Type.String(), Type.Null()]),
  mediaType: Type.String(),
  size: Type.Union([Type.Integer(), Type.Null()]),
  slot: Type.Integer(),
  version: Type.Integer(),
  current: Type.Boolean(),
  url: Type.String({ description: 'Download address' }),
  createdAt: Type.String({ format: 'date-time' }),
});

export const LicenceSchema = Type.Object({
  code: Type.String(),
  name: Type.String(),
  url: Type.Union([Type.String(), Type.Null()]),
  credit: Type.Object({ fr: Type.String(), en: Type.String() }),
});

export const ResourceSchema = Type.Object({
  id: Type.String(),
  apId: Type.String(),
  url: Type.String(),
  origin: Type.Union([Type.Literal('local'), Type.Literal('remote')]),
  network: Type.Union([Type.Object({ name: Type.String(), handle: Type.String() }), Type.Null()]),
  title: Type.String(),
  description: Type.Union([Type.String({ description: 'Markdown source (local resources)' }), Type.Null()]),
  descriptionHtml: Type.String(),
  summary: Type.String(),
  link: Type.Union([Type.String(), Type.Null()]),
  tags: Type.Array(Type.String()),
  audience: Type.String(),
  language: Type.String(),
  licence: LicenceSchema,
  author: Type.String(),
  formats: Type.Array(Type.String()),
  status: Type.String(),
  publishedAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  files: Type.Array(FileSchema),
});

export const ResourcePageSchema = Type.Object({
  items: Type.Array(Type.Omit(ResourceSchema, ['files', 'description', 'descriptionHtml'])),
  total: Type.Integer(),
  totalCapped: Type.Boolean({
    description: 'True when more resources match than were counted (a search ranks the 500 most recent matches)',
  }),
  page: Type.Integer(),
  perPage: Type.Integer(),
});

export const ErrorSchema = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }),
});

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const ListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200, description: 'French full-text search ("contrats" finds "contrat")' })),
  network: Type.Optional(Type.String({ maxLength: 200, description: '"local" or a network handle such as aura@amap-aura.org' })),
  tag: Type.Optional(Type.String({ maxLength: 40 })),
  audience: Type.Optional(Type.Union([Type.Literal('everyone'), Type.Literal('amaps'), Type.Literal('farmers'), Type.Literal('networks')])),
  licence: Type.Optional(Type.String({ maxLength: 40 })),
  format: Type.Optional(Type.String({ maxLength: 20, description: 'document, spreadsheet, presentation, image, text, link' })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1 })),
  perPage: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
});

export const PatchBody = Type.Object(
  {
    title: Type.Optional(Type.String({ maxLength: 400 })),
    description: Type.Optional(Type.String({ maxLength: 40_000, description: 'Markdown' })),
    link: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
    tags: Type.Optional(Type.Union([Type.Array(Type.String({ maxLength: 100 }), { maxItems: 50 }), Type.String({ maxLength: 2000 })])),
    audience: Type.Optional(Type.String({ maxLength: 20 })),
    language: Type.Optional(Type.String({ maxLength: 8 })),
    licence: Type.Optional(Type.String({ maxLength: 40 })),
    author: Type.Optional(Type.String({ maxLength: 400 })),
    status: Type.Optional(Type.Union([Type.Literal('published'), Type.Literal('unpublished')])),
  },
  { additionalProperties: false },
);

export function fileUrl(resourceId: string, file: FileRow): string {
  return file.remoteUrl ?? `/resources/${resourceId}/files/${file.id}`;
}

export function presentFile(resourceId: string, file: FileRow, current: boolean) {
  return {
    id: file.id,
    name: file.name,
    kind: file.kind,
    mediaType: file.mediaType,
    size: file.size,
    slot: file.slot,
    version: file.version,
    current,
    url: fileUrl(resourceId, file),
    createdAt: file.createdAt.toISOString(),
  };
}

export function presentLicence(code: string, work: { title: string; author: string }, locale: Locale = 'fr') {
  return {
    code,
    name: licenceName(code, locale),
    url: findLicence(code)?.url ?? null,
    credit: { fr: creditLine(code, 'fr', work), en: creditLine(code, 'en', work) },
  };
}

export function presentSummary(r: ResourceRow) {
  return {
    id: r.id,
    apId: r.apId,
    url: r.url,
    origin: r.origin,
    network: r.networkHandle ? { name: r.networkName ?? r.networkHandle, handle: r.networkHandle } : null,
    title: r.title,
    summary: r.summary,
    link: r.linkUrl,
    tags: r.tags,
    audience: r.audience,
    language: r.language,
    licence: presentLicence(r.licence, { title: r.title, author: r.authorName }),
    author: r.authorName,
    formats: r.formats,
    status: r.status,
    publishedAt: r.publishedAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export function presentResource(view: { resource: ResourceRow; current: FileRow[]; older: FileRow[] }) {
  const r = view.resource;
  return {
    ...presentSummary(r),
    description: r.descriptionMarkdown,
    descriptionHtml: r.descriptionHtml,
    files: [...view.current.map((f) => presentFile(r.id, f, true)), ...view.older.map((f) => presentFile(r.id, f, false))],
  };
}
