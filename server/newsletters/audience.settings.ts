// Where "national news" comes from. On a regional instance it is the national network followed
// over federation (its handle, e.g. national@amap-france.org); on the national instance it is the
// instance's own news, and subscribers may pick regional networks instead.
import type { Executor } from '../core/events.ts';
import { readSettingValue, writeSettingValue } from '../mail/mail.repository.ts';

export const AUDIENCE_SETTING = 'newsletter.audience';

export interface AudienceSettings {
  isNational: boolean;
  nationalHandle: string | null;
  /** Announcements carrying one of these tags count as "resources". */
  resourceTags: string[];
}

export const DEFAULT_AUDIENCE: AudienceSettings = {
  isNational: false,
  nationalHandle: null,
  resourceTags: ['ressource', 'ressources', 'resources'],
};

export async function loadAudienceSettings(db: Executor): Promise<AudienceSettings> {
  const v = (await readSettingValue(db, AUDIENCE_SETTING)) as Partial<AudienceSettings> | undefined;
  return {
    isNational: typeof v?.isNational === 'boolean' ? v.isNational : DEFAULT_AUDIENCE.isNational,
    nationalHandle: typeof v?.nationalHandle === 'string' ? v.nationalHandle : DEFAULT_AUDIENCE.nationalHandle,
    resourceTags: Array.isArray(v?.resourceTags)
      ? v.resourceTags.filter((x): x is string => typeof x === 'string')
      : DEFAULT_AUDIENCE.resourceTags,
  };
}

export async function saveAudienceSettings(db: Executor, settings: AudienceSettings): Promise<void> {
  await writeSettingValue(db, AUDIENCE_SETTING, settings);
}
