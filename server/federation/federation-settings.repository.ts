// Federation settings kept in the instance settings table: whether admins approve followers by
// hand (by default follows are accepted automatically).
import type { Executor } from '../core/events.ts';

const MANUAL_APPROVAL = 'federation.manualApproval';

export async function manualApproval(db: Executor): Promise<boolean> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', MANUAL_APPROVAL).executeTakeFirst();
  return row?.value === true;
}

export async function setManualApproval(db: Executor, value: boolean): Promise<void> {
  const json = JSON.stringify(value);
  await db
    .insertInto('settings')
    .values({ key: MANUAL_APPROVAL, value: json })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: json, updated_at: new Date() }))
    .execute();
}
