// The look of an instance's emails: logo and colours, from `settings` (key `newsletter.branding`).
import type { Executor } from '../core/events.ts';
import { readSettingValue, writeSettingValue } from '../mail/mail.repository.ts';

export const BRANDING_SETTING = 'newsletter.branding';

export interface Branding {
  /** An https URL of the logo (on the instance's own site), or null for none. */
  logoUrl: string | null;
  primaryColor: string;
  textColor: string;
  backgroundColor: string;
}

export const DEFAULT_BRANDING: Branding = { logoUrl: null, primaryColor: '#2d6a1f', textColor: '#1a1a1a', backgroundColor: '#f3f1ea' };

const COLOR = /^#[0-9a-fA-F]{6}$/;

export function mergeBranding(stored: unknown): Branding {
  const s = (stored && typeof stored === 'object' ? stored : {}) as Record<string, unknown>;
  const color = (v: unknown, d: string) => (typeof v === 'string' && COLOR.test(v) ? v : d);
  return {
    logoUrl: typeof s.logoUrl === 'string' && /^https?:\/\/[^\s"'<>]+$/.test(s.logoUrl) ? s.logoUrl : null,
    primaryColor: color(s.primaryColor, DEFAULT_BRANDING.primaryColor),
    textColor: color(s.textColor, DEFAULT_BRANDING.textColor),
    backgroundColor: color(s.backgroundColor, DEFAULT_BRANDING.backgroundColor),
  };
}

export async function loadBranding(db: Executor): Promise<Branding> {
  return mergeBranding(await readSettingValue(db, BRANDING_SETTING));
}

export async function saveBranding(db: Executor, branding: Partial<Branding>): Promise<Branding> {
  const next = mergeBranding({ ...(await loadBranding(db)), ...branding });
  await writeSettingValue(db, BRANDING_SETTING, next);
  return next;
}
