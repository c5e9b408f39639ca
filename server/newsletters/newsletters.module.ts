// The newsletters capability: issues (compose, preview, send, follow), the sending worker, the
// digests and alerts, the public archive with its print edition, and the admin pages.
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { getMailer } from '../mail/mailer.ts';
import { newsletterAdmin } from './newsletters.admin.ts';
import { newsletterArchive } from './newsletters.archive.ts';
import { newsletterRoutes } from './newsletters.routes.ts';
import { defineScheduler, enqueueTick, resumeStalled } from './newsletters.scheduler.ts';
import { defineSendQueue } from './newsletters.sender.ts';
import { newsletterSettingsPages } from './newsletters.settings.pages.ts';

export async function registerNewsletters(app: AppServer, ctx: AppContext): Promise<void> {
  defineSendQueue(ctx);
  defineScheduler(ctx);
  await newsletterRoutes(app, ctx);
  await newsletterArchive(app, ctx);
  await newsletterSettingsPages(app, ctx);
  await newsletterAdmin(app, ctx);
  // Once the instance listens (the queue has started by then): resume sends a crash interrupted
  // and start the minute tick.
  app.addHook('onReady', async () => {
    if (ctx.config.role === 'web') return;
    try {
      await resumeStalled(ctx, true);
      await enqueueTick(ctx, new Date());
    } catch (error) {
      ctx.log.error({ err: error }, 'newsletters: could not resume sending');
    }
  });
  app.addHook('onClose', async () => {
    await getMailer(ctx).close();
  });
}
