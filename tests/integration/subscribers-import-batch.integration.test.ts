// The import's set-based batch (one statement per batch: checks against the subscribers and the
// hashed suppression list, insert, consent rows) and the import's progress, on a real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../server/core/context.ts';
import { importSubscribers } from '../../server/subscribers/subscribers.import.ts';
import { type ImportCommon, importBatch, suppress } from '../../server/subscribers/subscribers.repository.ts';
import { hashEmail } from '../../server/subscribers/subscribers.service.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp.ts';

let sink: SmtpSink;
let instance: TestInstance;
let ctx: AppContext;

const common: ImportCommon = {
  status: 'active',
  frequency: 'monthly',
  sources: ['network', 'resources'],
  confirmedAt: new Date(),
  consent: { action: 'import', method: 'admin', legalBasis: 'adhésion 2026', textVersion: 'test-v1' },
};

function rows(emails: string[], names: Array<string | null> = emails.map(() => null)) {
  return { emails, hashes: emails.map(hashEmail), names, languages: emails.map(() => 'en' as const) };
}

async function subscriber(email: string) {
  return ctx.db.selectFrom('subscribers').selectAll().where('email', '=', email).executeTakeFirst();
}

beforeAll(async () => {
  sink = await startSmtpSink();
  instance = await startTestInstance({ SMTP_URL: sink.url });
  ctx = instance.ctx;
});
afterAll(async () => {
  await instance?.destroy();
  await sink?.close();
});

describe('import batch', () => {
  it('adds the new addresses with their consent row, and counts the known and the suppressed ones without touching them', async () => {
    await suppress(ctx.db, hashEmail('gone@example.org'), 'erased');
    await ctx.db
      .insertInto('subscribers')
      .values([
        { email: 'left@example.org', email_hash: hashEmail('left@example.org'), status: 'unsubscribed', name: 'Left' },
        { email: 'here@example.org', email_hash: hashEmail('here@example.org'), status: 'active', name: 'Here' },
      ])
      .execute();
    const done = await ctx.db
      .transaction()
      .execute((trx) =>
        importBatch(
          trx,
          rows(
            ['new1@example.org', 'gone@example.org', 'left@example.org', 'here@example.org', 'new2@example.org'],
            ['Anne Nouvelle', 'X', 'Y', 'Z', null],
          ),
          common,
        ),
      );
    expect(done).toEqual({ imported: 2, suppressed: 2, alreadyKnown: 1, ids: [] });
    expect(await subscriber('new1@example.org')).toMatchObject({
      name: 'Anne Nouvelle',
      language: 'en',
      status: 'active',
      frequency: 'monthly',
      sources: ['network', 'resources'],
      email_hash: hashEmail('new1@example.org'),
    });
    expect((await subscriber('new2@example.org'))?.name).toBeNull();
    expect(await subscriber('gone@example.org')).toBeUndefined();
    expect(await subscriber('left@example.org')).toMatchObject({ status: 'unsubscribed', name: 'Left' });
    expect(await subscriber('here@example.org')).toMatchObject({ status: 'active', name: 'Here' });
    const consents = await ctx.db
      .selectFrom('subscriber_consents')
      .innerJoin('subscribers', 'subscribers.id', 'subscriber_consents.subscriber_id')
      .select(['email', 'action', 'method', 'legal_basis', 'text_version'])
      .where('email', 'in', ['new1@example.org', 'new2@example.org', 'left@example.org', 'here@example.org'])
      .orderBy('email')
      .execute();
    expect(consents).toEqual([
      { email: 'new1@example.org', action: 'import', method: 'admin', legal_basis: 'adhésion 2026', text_version: 'test-v1' },
      { email: 'new2@example.org', action: 'import', method: 'admin', legal_basis: 'adhésion 2026', text_version: 'test-v1' },
    ]);
  });

  it('returns the ids of the added rows when asked, handles a single row without a name, refuses a line break', async () => {
    const one = await ctx.db
      .transaction()
      .execute((trx) => importBatch(trx, rows(['solo@example.org']), { ...common, status: 'pending', returnIds: true }));
    const solo = await subscriber('solo@example.org');
    expect(one).toEqual({ imported: 1, suppressed: 0, alreadyKnown: 0, ids: [solo!.id] });
    expect(solo).toMatchObject({ name: null, status: 'pending' });
    const again = await ctx.db
      .transaction()
      .execute((trx) => importBatch(trx, rows(['solo@example.org', 'duo@example.org']), { ...common, returnIds: true }));
    expect(again.imported).toBe(1);
    expect(again.alreadyKnown).toBe(1);
    expect(again.ids).toEqual([(await subscriber('duo@example.org'))!.id]);
    await expect(
      ctx.db.transaction().execute((trx) => importBatch(trx, rows(['a@example.org', 'b@example.org'], ['Nom\nInjecté', null]), common)),
    ).rejects.toThrow(/line break/);
    expect(await subscriber('a@example.org')).toBeUndefined();
  });

  it('reports its progress batch by batch, and a re-import of the same file adds nothing', async () => {
    const lines = ['Courriel;Nom;Prénom'];
    for (let i = 0; i < 6_000; i++) lines.push(`progress${i}@example.net;Nom ${i};Prénom`);
    lines.push('progress7@example.net;Doublon;Ligne', 'pas-une-adresse;X;Y');
    const csv = Buffer.from(lines.join('\n'));
    const options = {
      legalBasis: 'liste papier',
      repermission: false,
      method: 'api' as const,
      frequency: 'weekly' as const,
      sources: ['network' as const],
      language: 'fr' as const,
    };
    const progress: Array<{ done: number; total: number }> = [];
    const report = await importSubscribers(ctx, csv, { ...options, onProgress: (p) => progress.push(p) });
    expect(report).toMatchObject({ rows: 6_002, imported: 6_000, duplicates: 1, alreadyKnown: 0, suppressed: 0 });
    expect(report.invalid).toEqual([{ line: 6_003, reason: 'invalid email address "pas-une-adresse"' }]);
    expect(progress).toEqual([
      { done: 2_500, total: 6_000 },
      { done: 5_000, total: 6_000 },
      { done: 6_000, total: 6_000 },
    ]);
    expect((await subscriber('progress5999@example.net'))?.name).toBe('Prénom Nom 5999');
    const again = await importSubscribers(ctx, csv, options);
    expect(again).toMatchObject({ imported: 0, alreadyKnown: 6_000, duplicates: 1 });
    const logged = await ctx.db
      .selectFrom('subscriber_consents')
      .innerJoin('subscribers', 'subscribers.id', 'subscriber_consents.subscriber_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('email', 'like', 'progress%')
      .executeTakeFirstOrThrow();
    expect(Number(logged.n)).toBe(6_000);
    expect(sink.count).toBe(0);
  });
});
