// One error handler: an AppError answers with its status, stable code and message; a schema
// failure answers 400 with what was wrong; anything else is a bug, logged in full and answered as
// a bare 500 that names only the request id.
import type { FastifyError, FastifyInstance } from 'fastify';
import { sendErrorPage } from '../accounts/error-page.ts';
import { AppError, type ErrorCode } from './errors.ts';

// A person in a browser gets a page in their language rather than JSON (API clients keep JSON).
const PAGE_MESSAGE: Partial<Record<ErrorCode | 'internal', string>> = {
  not_found: 'error.notFound',
  gone: 'error.gone',
  csrf_failed: 'error.csrf',
  rate_limited: 'error.rateLimited',
  unavailable: 'error.unavailable',
  internal: 'error.internal',
};
const pageMessage = (code: string) => PAGE_MESSAGE[code as ErrorCode] ?? 'error.generic';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId?: string };
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      if (sendErrorPage(request, reply, error.status, pageMessage(error.code))) return reply;
      const body: ErrorBody = { error: { code: error.code, message: error.message } };
      if (error.details !== undefined) body.error.details = error.details;
      return reply.code(error.status).send(body);
    }
    const fe = error as FastifyError;
    if (fe.validation) {
      if (sendErrorPage(request, reply, 400, 'error.generic')) return reply;
      return reply.code(400).send({
        error: {
          code: 'validation_failed',
          message: `Invalid ${fe.validationContext ?? 'request'}: ${fe.message}`,
          details: fe.validation.map((v) => ({ path: v.instancePath, message: v.message })),
        },
      });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code =
        fe.statusCode === 413
          ? 'payload_too_large'
          : fe.statusCode === 415
            ? 'unsupported_media_type'
            : fe.statusCode === 429
              ? 'rate_limited'
              : 'bad_request';
      if (sendErrorPage(request, reply, fe.statusCode, pageMessage(code))) return reply;
      return reply.code(fe.statusCode).send({ error: { code, message: fe.message } });
    }
    request.log.error({ err: error }, 'unhandled error');
    if (sendErrorPage(request, reply, 500, 'error.internal')) return reply;
    return reply.code(500).send({ error: { code: 'internal', message: 'Internal error', requestId: request.id } });
  });
  app.setNotFoundHandler((request, reply) => {
    if (sendErrorPage(request, reply, 404, 'error.notFound')) return;
    reply.code(404).send({ error: { code: 'not_found', message: `No route for ${request.method} ${request.url.split('?')[0]}` } });
  });
}
