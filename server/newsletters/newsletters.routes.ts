// REST API for editors: compose an issue, send or schedule it, follow its progress, pause,
// resume, cancel, send a test to oneself.
import { Type } from 'typebox';
import { requireRole } from '../accounts/guards.ts';
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import type { Issue } from './newsletters.repository.ts';
import { cancel, createIssue, pause, progress, requireIssue, resume, schedule, sendTest, startSending } from './newsletters.service.ts';

const ErrorBody = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Any()) }) });
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const IssueOut = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  subject: Type.String(),
  introduction: Type.String(),
  announcementIds: Type.Array(Type.String()),
  resourceIds: Type.Array(Type.String()),
  status: Type.String(),
  scheduledAt: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  htmlBytes: Type.Union([Type.Integer(), Type.Null()]),
  archiveUrl: Type.String(),
  progress: Type.Object({
    total: Type.Integer(),
    sent: Type.Integer(),
    failed: Type.Integer(),
    skipped: Type.Integer(),
    remaining: Type.Integer(),
    rate: Type.Number(),
    secondsLeft: Type.Union([Type.Integer(), Type.Null()]),
  }),
});
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody };

export async function issueJson(ctx: AppContext, issue: Issue) {
  return {
    id: issue.id,
    kind: issue.kind,
    subject: issue.subject,
    introduction: issue.introduction,
    announcementIds: issue.announcementIds,
    resourceIds: issue.resourceIds,
    status: issue.status,
    scheduledAt: issue.scheduledAt?.toISOString() ?? null,
    startedAt: issue.startedAt?.toISOString() ?? null,
    finishedAt: issue.finishedAt?.toISOString() ?? null,
    htmlBytes: issue.htmlBytes,
    archiveUrl: `${ctx.config.publicUrl}/newsletters/${issue.id}`,
    progress: await progress(ctx.db, issue),
  };
}

export async function newsletterRoutes(app: AppServer, ctx: AppContext): Promise<void> {
  const guard = { preHandler: requireRole('editor') };
  const common = { tags: ['newsletters'], security: [{ bearer: [] }] };

  app.post(
    '/api/v1/newsletters',
    {
      ...guard,
      schema: {
        ...common,
        summary: 'Create a newsletter issue (draft)',
        body: Type.Object({
          subject: Type.String({ minLength: 1, maxLength: 300 }),
          introduction: Type.Optional(Type.String({ maxLength: 20_000 })),
          announcementIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 100 })),
          /** Shared resources featured as links to their pages (never attached). */
          resourceIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 50 })),
        }),
        response: { 201: IssueOut, ...errors },
      },
    },
    async (request, reply) => {
      const issue = await ctx.db.transaction().execute((trx) => createIssue(trx, request.body, request.user?.id ?? null));
      return reply.code(201).send(await issueJson(ctx, issue));
    },
  );

  app.get(
    '/api/v1/newsletters/:id',
    {
      ...guard,
      schema: { ...common, summary: 'An issue and its sending progress', params: IdParams, response: { 200: IssueOut, ...errors } },
    },
    async (request) => issueJson(ctx, await requireIssue(ctx.db, request.params.id)),
  );

  app.post(
    '/api/v1/newsletters/:id/send',
    {
      ...guard,
      schema: {
        ...common,
        summary: 'Send an issue now, or schedule it',
        description:
          'Without `scheduledAt` the issue goes out now to every active subscriber. An issue over 100 KB of HTML is refused (413) unless `confirmOversize` is true.',
        params: IdParams,
        body: Type.Optional(
          Type.Object({ scheduledAt: Type.Optional(Type.String({ format: 'date-time' })), confirmOversize: Type.Optional(Type.Boolean()) }),
        ),
        response: { 202: IssueOut, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const issue = body.scheduledAt
        ? await schedule(ctx.db, request.params.id, new Date(body.scheduledAt))
        : await startSending(ctx, request.params.id, { confirmOversize: body.confirmOversize });
      return reply.code(202).send(await issueJson(ctx, issue));
    },
  );

  for (const [action, run] of [
    ['pause', (id: string) => pause(ctx.db, id)],
    ['resume', (id: string) => resume(ctx, id)],
    ['cancel', (id: string) => cancel(ctx, id)],
  ] as const) {
    app.post(
      `/api/v1/newsletters/:id/${action}`,
      {
        ...guard,
        schema: {
          ...common,
          summary: `${action[0]!.toUpperCase()}${action.slice(1)} the sending of an issue`,
          params: IdParams,
          response: { 200: IssueOut, ...errors },
        },
      },
      async (request) => issueJson(ctx, await run(request.params.id)),
    );
  }

  app.post(
    '/api/v1/newsletters/:id/test',
    {
      ...guard,
      schema: {
        ...common,
        summary: 'Send the issue to one address (yourself) to check it',
        params: IdParams,
        body: Type.Optional(Type.Object({ to: Type.Optional(Type.String({ maxLength: 320 })) })),
        response: { 200: Type.Object({ sentTo: Type.String() }), ...errors, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      const to = request.body?.to ?? request.user!.email;
      await sendTest(ctx, request.params.id, to);
      return reply.send({ sentTo: to });
    },
  );
}
