// The pieces of the subscription and preferences forms: frequency radios, source checkboxes (and,
// on the national instance, the regional networks), the consent box with its exact text.
import type { Locale } from '../config.ts';
import type { Executor } from '../core/events.ts';
import { loadAudienceSettings } from '../newsletters/audience.settings.ts';
import { knownNetworks } from '../newsletters/content.repository.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { FREQUENCIES, SOURCES } from './subscribers.service.ts';
import type { Frequency, Source } from './subscribers.tables.ts';

export interface Choices {
  frequency: Frequency;
  sources: Source[];
  networks: string[];
}

export async function choiceFields(db: Executor, locale: Locale, chosen: Choices): Promise<SafeHtml> {
  const audience = await loadAudienceSettings(db);
  // The national instance has no "this network" distinct from "national": it offers regions instead.
  const sources = SOURCES.filter((s) => !(audience.isNational && s === 'network'));
  const networks = audience.isNational ? await knownNetworks(db) : [];
  return html`<fieldset>
  <legend>${t(locale, 'newsletter.frequency')}</legend>
  ${FREQUENCIES.map(
    (f) =>
      html`<div><input type="radio" id="freq-${f}" name="frequency" value="${f}"${chosen.frequency === f ? html` checked` : ''}> <label for="freq-${f}">${t(locale, `newsletter.frequency.${f}`)}</label></div>`,
  )}
</fieldset>
<fieldset>
  <legend>${t(locale, 'newsletter.sources')}</legend>
  ${sources.map(
    (s) =>
      html`<div><input type="checkbox" id="src-${s}" name="sources" value="${s}"${chosen.sources.includes(s) ? html` checked` : ''}> <label for="src-${s}">${t(locale, `newsletter.source.${s}`)}</label></div>`,
  )}
</fieldset>
${
  networks.length > 0
    ? html`<fieldset>
  <legend>${t(locale, 'newsletter.networks')}</legend>
  ${networks.map(
    (n, i) =>
      html`<div><input type="checkbox" id="net-${i}" name="networks" value="${n.handle}"${chosen.networks.includes(n.handle) ? html` checked` : ''}> <label for="net-${i}">${n.name}</label></div>`,
  )}
</fieldset>`
    : ''
}`;
}

export function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function asFrequency(value: string | undefined): Frequency {
  return (FREQUENCIES as readonly string[]).includes(value ?? '') ? (value as Frequency) : 'weekly';
}

export function asSources(value: string | string[] | undefined): Source[] {
  return asList(value).filter((s): s is Source => (SOURCES as readonly string[]).includes(s));
}
