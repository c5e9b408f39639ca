// REST API for editors: add a subscriber, import a CSV, export the list as CSV.
import { Type } from 'typebox';
import { requireRole } from '../accounts/guards.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { AppServer } from '../core/http.ts';
import { importSubscribers } from './subscribers.import.ts';
import { insertConsents, listSubscribersPage, updateSubscriber } from './subscribers.repository.ts';
import { CONSENT_VERSION, FREQUENCIES, requestSubscription, SOURCES } from './subscribers.service.ts';
import type { Frequency, Source } from './subscribers.tables.ts';

const ErrorBody = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Any()) }) });
const SubscriberOut = Type.Object({ id: Type.String(), email: Type.String(), status: Type.String() });
const FrequencySchema = Type.Union(FREQUENCIES.map((f) => Type.Literal(f)));
const SourceSchema = Type.Union(SOURCES.map((s) => Type.Literal(s)));

function csvCell(value: string): string {
  // A cell starting with = + - @ is a formula to a spreadsheet: neutralised with a quote.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",;\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export async function subscriberRoutes(app: AppServer, ctx: AppContext): Promise<void> {
  app.addContentTypeParser(
    ['text/csv', 'application/csv', 'text/plain'],
    { parseAs: 'buffer', bodyLimit: 32 * 1024 * 1024 },
    (_req, body, done) => done(null, body),
  );

  app.post(
    '/api/v1/subscribers',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['subscribers'],
        summary: 'Add a subscriber',
        description:
          'Without `legalBasis`, the address receives a confirmation email and stays pending until confirmed (double opt-in). With `legalBasis` (e.g. "consent given on paper at the AMAP general meeting"), it is active at once and the basis is recorded in the consent log.',
        security: [{ bearer: [] }],
        body: Type.Object({
          email: Type.String({ maxLength: 320 }),
          name: Type.Optional(Type.String({ maxLength: 200 })),
          language: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])),
          frequency: Type.Optional(FrequencySchema),
          sources: Type.Optional(Type.Array(SourceSchema, { maxItems: 3 })),
          networks: Type.Optional(Type.Array(Type.String({ maxLength: 300 }), { maxItems: 50 })),
          legalBasis: Type.Optional(Type.String({ minLength: 3, maxLength: 300 })),
        }),
        response: { 201: SubscriberOut, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const s = await ctx.db.transaction().execute(async (trx) => {
        const { subscriber } = await requestSubscription(
          ctx,
          trx,
          {
            email: b.email,
            name: b.name,
            language: b.language ?? ctx.config.defaultLocale,
            frequency: (b.frequency ?? 'weekly') as Frequency,
            sources: (b.sources ?? ['network', 'national', 'resources']) as Source[],
            networks: b.networks,
            consent: true,
          },
          'api',
        );
        if (!b.legalBasis || subscriber.status === 'active') return subscriber;
        const active = await updateSubscriber(trx, subscriber.id, { status: 'active', confirmedAt: new Date() });
        await insertConsents(trx, [
          { subscriberId: subscriber.id, action: 'added', method: 'api', legalBasis: b.legalBasis, textVersion: CONSENT_VERSION },
        ]);
        return active;
      });
      return reply.code(201).send({ id: s.id, email: s.email, status: s.status });
    },
  );

  app.post(
    '/api/v1/subscribers/import',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['subscribers'],
        summary: 'Import subscribers from a CSV file',
        description:
          'Body: the CSV file (Content-Type: text/csv), UTF-8 or Windows-1252, comma or semicolon separated, with a header line naming an email column (email, e-mail, courriel) and optionally nom/name and prénom. Nobody is emailed unless `repermission=true`.',
        security: [{ bearer: [] }],
        querystring: Type.Object({
          legalBasis: Type.String({ minLength: 3, maxLength: 300 }),
          repermission: Type.Optional(Type.Boolean()),
          frequency: Type.Optional(FrequencySchema),
        }),
        response: {
          200: Type.Object({
            encoding: Type.String(),
            delimiter: Type.String(),
            rows: Type.Integer(),
            imported: Type.Integer(),
            duplicates: Type.Integer(),
            alreadyKnown: Type.Integer(),
            suppressed: Type.Integer(),
            invalid: Type.Array(Type.Object({ line: Type.Integer(), reason: Type.String() })),
          }),
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          415: ErrorBody,
        },
      },
    },
    async (request) => {
      if (!Buffer.isBuffer(request.body))
        throw new AppError('unsupported_media_type', 'Send the CSV file as the body, with Content-Type: text/csv.');
      return importSubscribers(ctx, request.body, {
        legalBasis: request.query.legalBasis,
        repermission: request.query.repermission === true,
        method: request.user?.via === 'session' ? 'admin' : 'api',
        frequency: (request.query.frequency ?? 'weekly') as Frequency,
        sources: ['network', 'national', 'resources'],
        language: ctx.config.defaultLocale,
      });
    },
  );

  app.get(
    '/api/v1/subscribers/export',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['subscribers'],
        summary: 'Export the subscribers as CSV (UTF-8, comma separated)',
        security: [{ bearer: [] }],
        response: { 200: Type.String(), 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (_request, reply) => {
      const lines = ['email,name,language,status,frequency,sources,networks,created_at,confirmed_at'];
      let after = '';
      for (;;) {
        const page = await listSubscribersPage(ctx.db, after, 5000);
        for (const s of page) {
          lines.push(
            [
              s.email,
              s.name ?? '',
              s.language,
              s.status,
              s.frequency,
              s.sources.join(' '),
              s.networks.join(' '),
              s.createdAt.toISOString(),
              s.confirmedAt?.toISOString() ?? '',
            ]
              .map(csvCell)
              .join(','),
          );
        }
        if (page.length < 5000) break;
        after = page[page.length - 1]!.email;
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="abonnes.csv"')
        .header('cache-control', 'no-store')
        .send(`${lines.join('\r\n')}\r\n`);
    },
  );
}
