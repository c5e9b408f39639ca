// The subscribers capability: public pages (subscribe, confirm, preferences, unsubscribe, my
// data), the REST API for editors (create, import, export), their admin page, and the job that
// sends the subscription emails.
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { privacyPage } from './privacy.pages.ts';
import { subscriberAdmin } from './subscribers.admin.ts';
import { defineSubscriberMailQueue } from './subscribers.mail.ts';
import { subscriberPages } from './subscribers.pages.ts';
import { subscriberRoutes } from './subscribers.routes.ts';

export async function registerSubscribers(app: AppServer, ctx: AppContext): Promise<void> {
  defineSubscriberMailQueue(ctx);
  await subscriberPages(app, ctx);
  await subscriberRoutes(app, ctx);
  await privacyPage(app, ctx);
  // In a scope of its own: it reads multipart bodies (the CSV file), the public pages do not.
  await app.register(async (scope) => subscriberAdmin(scope as unknown as AppServer, ctx));
}
