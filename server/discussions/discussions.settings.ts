// Settings of the discussions capability, kept in the instance's `settings` table.
import { getSetting } from '../accounts/settings.repository.ts';
import type { Executor } from '../core/events.ts';
import { writeSettingValue } from '../mail/mail.repository.ts';

const HOLD_UNTRUSTED = 'discussions.hold_untrusted';

/**
 * Whether comments from servers not yet trusted (neither followed by us nor following us) wait for
 * a moderator's approval before they show. Off by default.
 */
export async function holdUntrusted(db: Executor): Promise<boolean> {
  return (await getSetting<boolean>(db, HOLD_UNTRUSTED)) === true;
}

export async function setHoldUntrusted(db: Executor, value: boolean): Promise<void> {
  await writeSettingValue(db, HOLD_UNTRUSTED, value);
}
