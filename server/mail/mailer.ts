// The mailer of one instance: sender settings, the transport and the pacing, shared by every
// capability that sends email (subscriptions, newsletters). One per AppContext.
import path from 'node:path';
import type { AppContext } from '../core/context.ts';
import { formatAddress } from './mail.headers.ts';
import { loadSenderSettings, type SenderSettings } from './mail.settings.ts';
import type { MailMessage, MailTransport, SendResult } from './mail.types.ts';
import { SendRateLimiter } from './rate-limiter.ts';
import { createMailTransport } from './transports.ts';

const SETTINGS_TTL_MS = 30_000;

export class Mailer {
  readonly #ctx: AppContext;
  #settings: SenderSettings | undefined;
  #settingsAt = 0;
  #transport: MailTransport | undefined;
  #transportKey = '';
  #transportSettings: SenderSettings | undefined;
  #limiter: SendRateLimiter | undefined;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  async settings(): Promise<SenderSettings> {
    if (!this.#settings || Date.now() - this.#settingsAt > SETTINGS_TTL_MS) {
      this.#settings = await loadSenderSettings(this.#ctx.db, this.#ctx.config);
      this.#settingsAt = Date.now();
    }
    return this.#settings;
  }

  /** Forget cached settings (after an administrator changed them). */
  invalidate(): void {
    this.#settings = undefined;
  }

  /** `"Instance" <no-reply@host>` and the Reply-To, as configured. */
  async sender(): Promise<{ from: string; replyTo: string | undefined; address: string }> {
    const s = await this.settings();
    return { from: formatAddress(s.fromAddress, s.fromName), replyTo: s.replyTo ?? undefined, address: s.fromAddress };
  }

  async concurrency(): Promise<number> {
    return (await this.settings()).concurrency;
  }

  async transport(): Promise<MailTransport> {
    const s = await this.settings();
    // Asked for every message of a send: the same settings object needs no comparing.
    if (this.#transport && s === this.#transportSettings) return this.#transport;
    this.#transportSettings = s;
    const key = JSON.stringify([s.concurrency, s.dkim, s.ratePerSecond, s.ratePerHour]);
    if (!this.#transport || key !== this.#transportKey) {
      const old = this.#transport;
      this.#transport = createMailTransport({
        smtpUrl: this.#ctx.config.smtpUrl,
        outboxDir: path.join(this.#ctx.config.dataDir, 'outbox'),
        concurrency: s.concurrency,
        dkim: s.dkim,
      });
      this.#limiter = new SendRateLimiter(s.ratePerSecond, s.ratePerHour);
      this.#transportKey = key;
      await old?.close();
    }
    return this.#transport;
  }

  /** Waits for the rate limit, then hands the message over. Throws MailSendError on failure. */
  async send(message: MailMessage): Promise<SendResult> {
    const transport = await this.transport();
    await this.#limiter!.take();
    return transport.send(message);
  }

  async close(): Promise<void> {
    const t = this.#transport;
    this.#transport = undefined;
    await t?.close();
  }
}

const mailers = new WeakMap<AppContext, Mailer>();

export function getMailer(ctx: AppContext): Mailer {
  let mailer = mailers.get(ctx);
  if (!mailer) {
    mailer = new Mailer(ctx);
    mailers.set(ctx, mailer);
  }
  return mailer;
}
