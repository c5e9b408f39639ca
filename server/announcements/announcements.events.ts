// Events of the announcements capability. The local ones are published inside the transaction
// that makes a change visible to the public, so federation and newsletters record their work
// (jobs) with the change or not at all.
import '../core/events.ts';

declare module '../core/events.ts' {
  interface DomainEventMap {
    /** A local announcement became public (a draft published, or created as published). */
    'announcement.published': { id: string };
    /** A public local announcement was edited. */
    'announcement.updated': { id: string };
    /** A public local announcement was deleted; `apId` is kept for the Delete activity. */
    'announcement.deleted': { id: string; apId: string };
    /** An announcement from another network was stored for the first time. */
    'announcement.received': { id: string };
  }
}
