// Events of the discussions capability, published inside the transaction of the change, so that
// federation (deliveries), realtime (live pages) and the email digest record their work with it.
import '../core/events.ts';

declare module '../core/events.ts' {
  interface DomainEventMap {
    /** A post became visible: written here, or received and stored (origin tells which). */
    'discussion.post.created': { postId: string };
    /** A visible post was edited by its author. */
    'discussion.post.updated': { postId: string };
    /** A post was removed, by its author or by a moderator; `apId` is kept for the Delete. */
    'discussion.post.removed': { postId: string; apId: string; byModerator: boolean };
    /** A held post was approved by a moderator (it is now visible). */
    'discussion.post.approved': { postId: string };
    /** A membership was accepted, refused, banned, or ended (status tells which; null = gone). */
    'discussion.membership.changed': { groupId: string; actorApId: string; status: 'pending' | 'accepted' | 'banned' | null };
    /** A local group's name, summary, visibility or join policy changed. */
    'discussion.group.updated': { groupId: string };
    /** A local group was closed. */
    'discussion.group.closed': { groupId: string };
    /** Someone reported a post. */
    'discussion.report.created': { reportId: string };
  }
}
