// The database as Kysely sees it: each capability declares its own tables beside its repository,
// and they are gathered here (one line each).
import type { AccountTables } from '../accounts/accounts.tables.ts';
import type { AnnouncementTables } from '../announcements/announcements.tables.ts';
import type { CoreTables } from '../core/core.tables.ts';

export interface Database extends CoreTables, AccountTables, AnnouncementTables {}
