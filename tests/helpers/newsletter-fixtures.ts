// Data for newsletter tests and the benchmark: active subscribers and published announcements,
// written straight into the tables (the announcements table is read-only for newsletters).
import crypto from 'node:crypto';
import type { AppContext } from '../../server/core/context.ts';
import { insertSubscribers } from '../../server/subscribers/subscribers.repository.ts';
import { hashEmail } from '../../server/subscribers/subscribers.service.ts';
import type { Frequency, Source } from '../../server/subscribers/subscribers.tables.ts';

export async function seedSubscribers(
  ctx: AppContext,
  count: number,
  options: { prefix?: string; frequency?: Frequency; sources?: Source[]; networks?: string[]; language?: 'fr' | 'en' } = {},
): Promise<string[]> {
  const emails: string[] = [];
  for (let i = 0; i < count; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) {
      const email = `${options.prefix ?? 'member'}${j}@example.org`;
      emails.push(email);
      batch.push({
        email,
        emailHash: hashEmail(email),
        name: j % 3 === 0 ? null : `Adhérent ${j}`,
        language: options.language ?? (j % 10 === 9 ? ('en' as const) : ('fr' as const)),
        status: 'active' as const,
        frequency: options.frequency ?? 'weekly',
        sources: options.sources ?? ['network', 'national', 'resources'],
        networks: options.networks ?? [],
        confirmedAt: new Date(),
      });
    }
    await insertSubscribers(ctx.db, batch);
  }
  return emails;
}

export interface SeedAnnouncement {
  title: string;
  origin?: 'local' | 'remote';
  networkHandle?: string | null;
  networkName?: string | null;
  tags?: string[];
  publishedAt?: Date;
  summary?: string;
}

export async function seedAnnouncement(ctx: AppContext, a: SeedAnnouncement): Promise<string> {
  const id = crypto.randomUUID();
  const origin = a.origin ?? 'local';
  const url =
    origin === 'local'
      ? `${ctx.config.publicUrl}/announcements/${id}`
      : `https://${a.networkHandle?.split('@')[1] ?? 'remote.example'}/a/${id}`;
  await ctx.db
    .insertInto('announcements')
    .values({
      id,
      ap_id: url,
      origin,
      actor_id: origin === 'remote' ? `https://remote.example/actor` : null,
      network_name: a.networkName ?? (origin === 'remote' ? 'Réseau distant' : null),
      network_handle: a.networkHandle ?? null,
      title: a.title,
      summary: a.summary ?? `Résumé de « ${a.title} » : des nouvelles des AMAP & des paysans <partenaires>.`,
      content_html: `<p>${a.title}</p>`,
      url,
      tags: a.tags ?? [],
      status: 'published',
      published_at: a.publishedAt ?? new Date(),
    } as never)
    .execute();
  return id;
}
