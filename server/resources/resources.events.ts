// Events of the resources capability, published inside the transaction that makes the change
// visible, so that federation and newsletters record their work with it or not at all.
import '../core/events.ts';

declare module '../core/events.ts' {
  interface DomainEventMap {
    /** A local resource became public (created, or published again after being unpublished). */
    'resource.published': { id: string };
    /** A public local resource was edited or got a new file version. */
    'resource.updated': { id: string };
    /** A local resource was deleted or unpublished; `apId` is kept for the Delete activity. */
    'resource.deleted': { id: string; apId: string };
  }
}
