// One error handler: an AppError answers with its status, stable code and message; a schema
// failure answers 400 with what was wrong; anything else is a bug, logged in full and answered as
// a bare 500 that names only the request id.
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError } from './errors.ts';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId?: string };
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      const body: ErrorBody = { error: { code: error.code, message: error.message } };
      if (error.details !== undefined) body.error.details = error.details;
      return reply.code(error.status).send(body);
    }
    const fe = error as FastifyError;
    if (fe.validation) {
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
      return reply.code(fe.statusCode).send({ error: { code, message: fe.message } });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ error: { code: 'internal', message: 'Internal error', requestId: request.id } });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: { code: 'not_found', message: `No route for ${request.method} ${request.url.split('?')[0]}` } });
  });
}
