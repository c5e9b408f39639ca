// The shapes of the announcements REST API (validated on the way in, documented in OpenAPI).
import { Type } from 'typebox';
import { LIMITS } from './announcements.domain.ts';
import type { AnnouncementRow } from './announcements.repository.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
    requestId: Type.Optional(Type.String()),
  }),
});

export const AnnouncementSchema = Type.Object({
  id: Type.String({ description: 'Identifier (uuid)' }),
  apId: Type.String({ description: 'ActivityPub id; for local announcements, its public page' }),
  url: Type.String({ description: 'Public page (the original page for announcements of other networks)' }),
  origin: Type.Union([Type.Literal('local'), Type.Literal('remote')]),
  network: Nullable(Type.Object({ name: Type.String(), handle: Type.String(), actorId: Type.String() })),
  title: Type.String(),
  summary: Type.String({ description: 'Plain text excerpt' }),
  body: Nullable(Type.String({ description: 'Markdown source (local announcements only)' })),
  contentHtml: Type.String({ description: 'Sanitized HTML' }),
  imageUrl: Nullable(Type.String()),
  imageAlt: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  status: Type.Union([Type.Literal('draft'), Type.Literal('published')]),
  publishedAt: Nullable(Type.String({ format: 'date-time' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const Status = Type.Union([Type.Literal('draft'), Type.Literal('published')], {
  description: 'draft (default) or published; a published announcement cannot go back to draft',
});

const fields = {
  title: Type.String({ minLength: 1, maxLength: LIMITS.title }),
  summary: Nullable(Type.String({ maxLength: LIMITS.summary, description: 'Plain text; generated from the body when empty' })),
  body: Type.String({ minLength: 1, maxLength: LIMITS.body, description: 'Markdown' }),
  imageUrl: Nullable(Type.String({ maxLength: LIMITS.imageUrl, description: 'Absolute http(s) URL of an image' })),
  imageAlt: Nullable(Type.String({ maxLength: LIMITS.imageAlt, description: 'Description of the image (required with an image)' })),
  tags: Type.Array(Type.String({ maxLength: 60 }), {
    maxItems: 20,
    description: `At most ${LIMITS.tags}, normalised to lower case without #`,
  }),
  status: Status,
};

export const CreateAnnouncementSchema = Type.Object(
  {
    title: fields.title,
    summary: Type.Optional(fields.summary),
    body: fields.body,
    imageUrl: Type.Optional(fields.imageUrl),
    imageAlt: Type.Optional(fields.imageAlt),
    tags: Type.Optional(fields.tags),
    status: Type.Optional(fields.status),
  },
  { additionalProperties: false },
);

export const UpdateAnnouncementSchema = Type.Object(
  {
    title: Type.Optional(fields.title),
    summary: Type.Optional(fields.summary),
    body: Type.Optional(fields.body),
    imageUrl: Type.Optional(fields.imageUrl),
    imageAlt: Type.Optional(fields.imageAlt),
    tags: Type.Optional(fields.tags),
    status: Type.Optional(fields.status),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ListQuerySchema = Type.Object({
  origin: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('remote'), Type.Literal('all')], { default: 'all' })),
  network: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'Handle of the network, e.g. aura@amap-aura.org' })),
  tag: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
  status: Type.Optional(
    Type.Union([Type.Literal('published'), Type.Literal('draft'), Type.Literal('all')], {
      default: 'published',
      description: 'draft and all need an editor token',
    }),
  ),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
});

export const ListSchema = Type.Object({
  items: Type.Array(AnnouncementSchema),
  page: Type.Integer(),
  limit: Type.Integer(),
  hasMore: Type.Boolean(),
});

export const IdParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export interface AnnouncementJson {
  id: string;
  apId: string;
  url: string;
  origin: 'local' | 'remote';
  network: { name: string; handle: string; actorId: string } | null;
  title: string;
  summary: string;
  body: string | null;
  contentHtml: string;
  imageUrl: string | null;
  imageAlt: string | null;
  tags: string[];
  status: 'draft' | 'published';
  publishedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toJson(row: AnnouncementRow): AnnouncementJson {
  return {
    id: row.id,
    apId: row.ap_id,
    url: row.url,
    origin: row.origin,
    network:
      row.origin === 'remote' ? { name: row.network_name ?? '', handle: row.network_handle ?? '', actorId: row.actor_id ?? '' } : null,
    title: row.title,
    summary: row.summary,
    body: row.body_markdown,
    contentHtml: row.content_html,
    imageUrl: row.image_url,
    imageAlt: row.image_alt,
    tags: row.tags,
    status: row.status,
    publishedAt: row.published_at ? new Date(row.published_at).toISOString() : null,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
