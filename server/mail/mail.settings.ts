// Sender settings: who the emails come from, how fast they may go out, and the DKIM key.
// Stored in `settings` (key `mail.sender`); anything missing takes its default, so a new instance
// sends correctly without configuration: From `${INSTANCE_NAME} <no-reply@host of PUBLIC_URL>`.
import type { Config } from '../config.ts';
import type { Executor } from '../core/events.ts';
import { headerText, isValidEmail } from './mail.headers.ts';
import { readSettingValue, writeSettingValue } from './mail.repository.ts';

export const SENDER_SETTING = 'mail.sender';

export interface DkimSettings {
  domainName: string;
  keySelector: string;
  privateKey: string;
}

export interface SenderSettings {
  fromName: string;
  fromAddress: string;
  replyTo: string | null;
  /** Messages per second per sending process. */
  ratePerSecond: number;
  /** Messages per hour per sending process (many hosting offers cap this). */
  ratePerHour: number;
  /** SMTP connections (and messages in flight) per sending process. */
  concurrency: number;
  dkim: DkimSettings | null;
}

export function hostOf(publicUrl: string): string {
  return new URL(publicUrl).hostname;
}

export function defaultSenderSettings(config: Pick<Config, 'instanceName' | 'publicUrl'>): SenderSettings {
  const host = hostOf(config.publicUrl);
  // `localhost` and bare IPs are not valid mail domains: fall back to a reserved one for tests.
  const domain = host.includes('.') && !/^[\d.]+$/.test(host) ? host : 'localhost.localdomain';
  return {
    fromName: config.instanceName,
    fromAddress: `no-reply@${domain}`,
    replyTo: null,
    ratePerSecond: 50,
    ratePerHour: 100_000,
    concurrency: 5,
    dkim: null,
  };
}

function bounded(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}

/** Merge stored values over the defaults, dropping anything invalid. */
export function mergeSenderSettings(defaults: SenderSettings, stored: unknown): SenderSettings {
  const s = (stored && typeof stored === 'object' ? stored : {}) as Record<string, unknown>;
  const dkim = s.dkim as Partial<DkimSettings> | null | undefined;
  return {
    fromName: typeof s.fromName === 'string' && headerText(s.fromName) ? headerText(s.fromName, 100) : defaults.fromName,
    fromAddress: typeof s.fromAddress === 'string' && isValidEmail(s.fromAddress) ? s.fromAddress : defaults.fromAddress,
    replyTo: typeof s.replyTo === 'string' && isValidEmail(s.replyTo) ? s.replyTo : defaults.replyTo,
    ratePerSecond: bounded(s.ratePerSecond, defaults.ratePerSecond, 1, 100_000),
    ratePerHour: bounded(s.ratePerHour, defaults.ratePerHour, 1, 100_000_000),
    concurrency: bounded(s.concurrency, defaults.concurrency, 1, 100),
    dkim:
      dkim && typeof dkim.domainName === 'string' && typeof dkim.keySelector === 'string' && typeof dkim.privateKey === 'string'
        ? { domainName: dkim.domainName, keySelector: dkim.keySelector, privateKey: dkim.privateKey }
        : null,
  };
}

export async function loadSenderSettings(db: Executor, config: Config): Promise<SenderSettings> {
  return mergeSenderSettings(defaultSenderSettings(config), await readSettingValue(db, SENDER_SETTING));
}

export async function saveSenderSettings(db: Executor, config: Config, changes: Partial<SenderSettings>): Promise<SenderSettings> {
  const current = await loadSenderSettings(db, config);
  const next = mergeSenderSettings(current, { ...current, ...changes });
  await writeSettingValue(db, SENDER_SETTING, next);
  return next;
}
