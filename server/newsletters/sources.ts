// Which announcements a subscriber asked for. An announcement belongs to one or more sources:
// "network" (this instance's own news), "national" (the national network's news: its own when
// this instance is the national one, else remote ones from the national handle), "resources"
// (tagged as such), and, for remote ones, the regional network it came from (by handle).
import type { Source } from '../subscribers/subscribers.tables.ts';
import type { AudienceSettings } from './audience.settings.ts';
import type { IssueAnnouncement } from './content.repository.ts';

export function sourcesOf(a: IssueAnnouncement, audience: AudienceSettings): Source[] {
  const out: Source[] = [];
  if (a.origin === 'local') out.push(audience.isNational ? 'national' : 'network');
  if (a.origin === 'remote' && audience.nationalHandle && a.networkHandle === audience.nationalHandle) out.push('national');
  if (a.tags.some((tag) => audience.resourceTags.includes(tag.toLowerCase()))) out.push('resources');
  return out;
}

export function announcementsFor(
  announcements: IssueAnnouncement[],
  subscriber: { sources: Source[]; networks: string[] },
  audience: AudienceSettings,
): IssueAnnouncement[] {
  return announcements.filter(
    (a) =>
      sourcesOf(a, audience).some((s) => subscriber.sources.includes(s)) ||
      (a.origin === 'remote' && a.networkHandle !== null && subscriber.networks.includes(a.networkHandle)),
  );
}

/** Every source and network handle present in a set of announcements (to select an audience in SQL). */
export function coverage(announcements: IssueAnnouncement[], audience: AudienceSettings): { sources: Source[]; networks: string[] } {
  const sources = new Set<Source>();
  const networks = new Set<string>();
  for (const a of announcements) {
    for (const s of sourcesOf(a, audience)) sources.add(s);
    if (a.origin === 'remote' && a.networkHandle) networks.add(a.networkHandle);
  }
  return { sources: [...sources], networks: [...networks] };
}
