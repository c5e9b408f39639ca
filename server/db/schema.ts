// The database as Kysely sees it: each capability declares its own tables beside its repository,
// and they are gathered here (one line each).
import type { AccountTables } from '../accounts/accounts.tables.ts';
import type { AnnouncementTables } from '../announcements/announcements.tables.ts';
import type { CoreTables } from '../core/core.tables.ts';
import type { DiscussionTables } from '../discussions/discussions.tables.ts';
import type { FederationTables } from '../federation/federation.tables.ts';
import type { NewsletterTables } from '../newsletters/newsletters.tables.ts';
import type { ResourceTables } from '../resources/resources.tables.ts';
import type { SubscriberTables } from '../subscribers/subscribers.tables.ts';

export interface Database
  extends CoreTables,
    AccountTables,
    AnnouncementTables,
    FederationTables,
    ResourceTables,
    SubscriberTables,
    NewsletterTables,
    DiscussionTables {}
