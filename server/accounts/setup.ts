// First run: while the instance has no administrator, a one-time setup code lets a volunteer create
// the first one at /setup without the command line. Each process that starts without an admin
// prints its own code in the log and stores its hash in `settings`, so any printed code works on
// any process; all codes are deleted once an admin exists.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { Database } from '../db/schema.ts';
import { adminExists } from './accounts.repository.ts';
import { createUser, type NewUser, type PublicUser, prepareUser } from './accounts.service.ts';
import { sha256Hex } from './secrets.ts';
import { deleteSettingsWithPrefix, listSettingsWithPrefix, putSettingIfAbsent } from './settings.repository.ts';

const PREFIX = 'setup_code:';
// No 0/O, 1/I/L: the code is read from a log and typed by hand.
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function generateSetupCode(): string {
  const groups: string[] = [];
  for (let g = 0; g < 3; g++) {
    let group = '';
    for (let i = 0; i < 4; i++) group += ALPHABET[crypto.randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}

/** Upper case, no spaces, dashes where they belong: "abcd efgh-jkmn" → "ABCD-EFGH-JKMN". */
export function normaliseSetupCode(raw: string): string {
  const compact = raw.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return compact.match(/.{1,4}/g)?.join('-') ?? '';
}

const known = new WeakMap<AppContext, true>();

/** True once an admin exists (remembered: admins are never all removed while running). */
export async function hasAdmin(ctx: AppContext): Promise<boolean> {
  if (known.has(ctx)) return true;
  const exists = await adminExists(ctx.db);
  if (exists) known.set(ctx, true);
  return exists;
}

/** At start: when there is no admin, store a new setup code and print it with the setup address. */
export async function announceSetup(ctx: AppContext): Promise<string | undefined> {
  if (await hasAdmin(ctx)) {
    await deleteSettingsWithPrefix(ctx.db, PREFIX);
    return undefined;
  }
  const code = generateSetupCode();
  const hash = sha256Hex(code);
  await putSettingIfAbsent(ctx.db, PREFIX + hash.slice(0, 16), { hash, createdAt: new Date().toISOString() });
  const url = `${ctx.config.publicUrl}/setup`;
  ctx.log.warn({ setupUrl: url }, `No administrator yet: open ${url} and enter the setup code ${code} to create the first one.`);
  return code;
}

async function codeIsValid(db: Kysely<Database>, raw: string): Promise<boolean> {
  const hash = sha256Hex(normaliseSetupCode(raw));
  const codes = await listSettingsWithPrefix<{ hash: string }>(db, PREFIX);
  return codes.some((c) => c.value.hash === hash);
}

/** Creates the first admin if the code is right and there is still no admin; deletes the codes. */
export async function completeSetup(ctx: AppContext, code: string, input: Omit<NewUser, 'role'>): Promise<PublicUser> {
  const prepared = await prepareUser({ ...input, role: 'admin' });
  const user = await ctx.db.transaction().execute(async (trx) => {
    if (await adminExists(trx)) throw new AppError('gone', 'This instance already has an administrator: sign in instead.');
    if (!(await codeIsValid(trx, code))) {
      throw new AppError('forbidden', 'The setup code is not right: copy it from the server log.', {
        field: 'code',
        reason: 'setup.error.code',
      });
    }
    const created = await createUser(trx, prepared);
    await deleteSettingsWithPrefix(trx, PREFIX);
    return created;
  });
  known.set(ctx, true);
  return user;
}

/** Once an admin exists (e.g. added with the CLI), the setup codes are useless: delete them. */
export async function forgetSetupCodes(db: Kysely<Database>): Promise<void> {
  await deleteSettingsWithPrefix(db, PREFIX);
}
