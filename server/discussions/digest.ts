// Following a group by email: a daily digest of its new posts, through the subscribers and mail
// capabilities (double opt-in with the consent recorded, one-click unsubscribe, export and
// erasure with the subscriber's data). Registered by the discussions module.
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { defineDigestMailQueue } from './digest.mail.ts';
import { registerDigestPages } from './digest.pages.ts';
import { defineDigestQueues, scheduleNextDigestRun } from './digest.sender.ts';

export { digestFollowForm, digestFormPath } from './digest.pages.ts';

export async function registerDiscussionDigest(app: AppServer, ctx: AppContext): Promise<void> {
  defineDigestMailQueue(ctx);
  defineDigestQueues(ctx);
  await registerDigestPages(app, ctx);
  // Once the queue runs (processes that work jobs): make sure the next daily run is planned.
  app.addHook('onReady', async () => {
    if (ctx.config.role === 'web') return;
    try {
      await scheduleNextDigestRun(ctx);
    } catch (error) {
      ctx.log.error({ err: error }, 'group digest: could not plan the next run');
    }
  });
}
