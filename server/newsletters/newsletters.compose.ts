// Composing each subscriber's message of an issue: the issue compiled once per language and
// selection (makeRenderer), then, per message, the subscriber's links, greeting and headers
// written into the pre-encoded pieces (buildMessage), already in their SMTP form for the bulk pool.
import type { Locale } from '../config.ts';
import type { AppContext } from '../core/context.ts';
import { formatAddress } from '../mail/mail.headers.ts';
import { hostOf } from '../mail/mail.settings.ts';
import type { MailMessage } from '../mail/mail.types.ts';
import { composeRawBuffer, qpFragment, type RawScratch } from '../mail/mime.ts';
import { BulkMessage } from '../mail/mime-bulk.ts';
import { tokenFor } from '../subscribers/tokens.ts';
import { escapeHtml } from '../web/html.ts';
import { t } from '../web/i18n.ts';
import { loadAudienceSettings } from './audience.settings.ts';
import { loadBranding } from './branding.settings.ts';
import { announcementsByIds, resourcesByIds } from './content.repository.ts';
import { type CompiledIssue, compileIssue, personalise, personaliseQpPieces, type SlotValues } from './newsletters.render.ts';
import type { ClaimedDelivery, Issue } from './newsletters.repository.ts';
import { announcementsFor } from './sources.ts';

export interface Renderer {
  render(d: ClaimedDelivery): Promise<{ compiled: CompiledIssue; count: number }>;
}

/** Compiles lazily, once per language and per distinct selection of announcements. */
export async function makeRenderer(ctx: AppContext, issue: Issue): Promise<Renderer> {
  const announcements = await announcementsByIds(ctx.db, issue.announcementIds);
  const resources = await resourcesByIds(ctx.db, issue.resourceIds);
  const branding = await loadBranding(ctx.db);
  const audience = await loadAudienceSettings(ctx.db);
  const cache = new Map<string, Promise<CompiledIssue>>();
  return {
    async render(d) {
      const chosen = issue.kind === 'manual' ? announcements : announcementsFor(announcements, d, audience);
      // Digests: resources only for those who chose them.
      const chosenResources = issue.kind === 'manual' || d.sources.includes('resources') ? resources : [];
      const key = `${d.language}|${chosen.map((a) => a.id).join(',')}|${chosenResources.length}`;
      let compiled = cache.get(key);
      if (!compiled) {
        compiled = compileIssue(
          {
            id: issue.id,
            kind: issue.kind,
            subject: issue.subject,
            introduction: issue.introduction,
            announcements: chosen,
            resources: chosenResources,
          },
          { instanceName: ctx.config.instanceName, publicUrl: ctx.config.publicUrl, branding, locale: d.language },
        );
        cache.set(key, compiled);
      }
      return { compiled: await compiled, count: chosen.length + chosenResources.length };
    },
  };
}

// Per message, these were a URL parse and a message lookup: the same answer 50,000 times.
const hosts = new Map<string, string>();
const hostOfCached = (url: string): string => {
  let host = hosts.get(url);
  if (host === undefined) {
    host = hostOf(url);
    hosts.set(url, host);
  }
  return host;
};
const greetings = new Map<Locale, string>();
const anonymousGreeting = (language: Locale): string => {
  let greeting = greetings.get(language);
  if (greeting === undefined) {
    greeting = t(language, 'issue.greetingAnonymous');
    greetings.set(language, greeting);
  }
  return greeting;
};

export async function buildMessage(
  ctx: AppContext,
  issue: Issue,
  compiled: CompiledIssue,
  d: ClaimedDelivery,
  sender: { from: string; replyTo: string | undefined; address: string },
  /** false when only the raw message is sent (bulk): html and text are then left empty, not built. */
  withBodies = true,
  /** Bulk: the sending lane's buffer, written again for each of its messages. */
  scratch?: RawScratch,
): Promise<MailMessage> {
  const base = ctx.config.publicUrl;
  const token = await tokenFor(ctx, 'manage', d.subscriberId);
  const unsubscribe = `${base}/newsletter/unsubscribe?token=${token}`;
  const values: SlotValues = {
    GREETING: d.name ? t(d.language, 'issue.greeting', { name: d.name }) : anonymousGreeting(d.language),
    PREFERENCES_URL: `${base}/newsletter/preferences?token=${token}`,
    UNSUBSCRIBE_URL: unsubscribe,
    MYDATA_URL: `${base}/newsletter/my-data?token=${token}`,
  };
  const { html, text } = withBodies ? personalise(compiled, values) : { html: '', text: '' };
  const host = hostOfCached(base);
  const message: MailMessage = {
    from: sender.from,
    replyTo: sender.replyTo,
    to: formatAddress(d.email, d.name),
    subject: compiled.subject,
    html,
    text,
    // The same for a message sent twice after a crash, so that mail programs show it once.
    messageId: `${issue.id}.${d.subscriberId}@${host}`,
    date: new Date(),
    headers: {
      'List-Id': listId(ctx, host),
      'List-Unsubscribe': listUnsubscribe(unsubscribe, sender.address),
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Archive': `<${base}/newsletters/${issue.id}>`,
      Precedence: 'bulk',
    },
  };
  if (withBodies) {
    // The bodies were encoded once per issue; this message only copies them, with its own links,
    // into its bytes, already in their SMTP form (see composeRawBuffer).
    message.prebuilt = composeRawBuffer(
      { ...message, date: message.date!, headers: message.headers!, ...personaliseQpPieces(compiled, values) },
      scratch,
      { smtpReady: true },
    );
    return message;
  }
  // Bulk: everything but this subscriber's own values was written once for the issue (mime-bulk.ts).
  // Handed over as bytes, the message goes to the socket as the bare client's does, with no
  // conversion in the transport (smtp-bulk.ts).
  message.prebuilt = bulkMessage(ctx, issue, compiled, sender, host).write(
    {
      to: message.to,
      messageId: message.messageId,
      date: message.date!,
      headers: { 'List-Unsubscribe': message.headers!['List-Unsubscribe']! },
      ...encodeValues(values),
    },
    scratch,
  );
  return message;
}

const listId = (ctx: AppContext, host: string) => `<${ctx.config.instanceHandle}.newsletter.${host}>`;
const listUnsubscribe = (url: string, address: string) => `<${url}>, <mailto:${address}?subject=unsubscribe>`;

/** The issue's message for every subscriber, per compiled issue (one per language and selection)
 * and sender. */
const bulkMessages = new WeakMap<CompiledIssue, { from: string; message: BulkMessage }>();
function bulkMessage(
  ctx: AppContext,
  issue: Issue,
  compiled: CompiledIssue,
  sender: { from: string; replyTo: string | undefined },
  host: string,
): BulkMessage {
  const kept = bulkMessages.get(compiled);
  if (kept && kept.from === `${sender.from}|${sender.replyTo}`) return kept.message;
  const message = new BulkMessage({
    from: sender.from,
    replyTo: sender.replyTo,
    subject: compiled.subject,
    // In the order of buildMessage's headers; List-Unsubscribe carries each subscriber's link.
    headers: {
      'List-Id': listId(ctx, host),
      'List-Unsubscribe': null,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Archive': `<${ctx.config.publicUrl}/newsletters/${issue.id}>`,
      Precedence: 'bulk',
    },
    textQp: compiled.textQp,
    htmlQp: compiled.htmlQp,
  });
  bulkMessages.set(compiled, { from: `${sender.from}|${sender.replyTo}`, message });
  return message;
}

/** Each value encoded once per body (a link appears several times in each), escaped for the HTML. */
function encodeValues(values: SlotValues): { textValues: SlotValues; htmlValues: SlotValues } {
  const textValues = {} as SlotValues;
  const htmlValues = {} as SlotValues;
  for (const key of Object.keys(values) as (keyof SlotValues)[]) {
    const value = values[key];
    const escaped = escapeHtml(value);
    textValues[key] = qpFragment(value);
    htmlValues[key] = escaped === value ? textValues[key] : qpFragment(escaped);
  }
  return { textValues, htmlValues };
}
