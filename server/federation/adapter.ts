// Fedify in Fastify: a Fastify request becomes a web Request (method, the full URL on PUBLIC_URL's
// origin, headers, the raw body of a POST), goes through `federation.fetch()`, and the web
// Response goes back through Fastify's reply. When Fedify has no route for it, or the client does
// not ask for ActivityPub JSON, `fallThrough` lets Fastify's own route (an HTML page) answer.
import type { Federation } from '@fedify/fedify';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const ACTIVITY_TYPES = ['application/activity+json', 'application/ld+json'];

export function wantsActivityJson(request: FastifyRequest): boolean {
  const accept = String(request.headers.accept ?? '');
  return ACTIVITY_TYPES.some((t) => accept.includes(t));
}

export function toWebRequest(request: FastifyRequest, publicUrl: string): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const method = request.method.toUpperCase();
  const body = method === 'GET' || method === 'HEAD' ? undefined : Buffer.isBuffer(request.body) ? request.body : undefined;
  // Fedify builds ids from this URL: the public origin, never the Host header a client chose.
  return new Request(new URL(request.url, publicUrl), {
    method,
    headers,
    ...(body ? { body: new Uint8Array(body) } : {}),
  });
}

export async function sendWebResponse(reply: FastifyReply, response: Response): Promise<FastifyReply> {
  reply.code(response.status);
  response.headers.forEach((value, name) => {
    if (name === 'content-length' || name === 'transfer-encoding') return;
    reply.header(name, value);
  });
  const buffer = Buffer.from(await response.arrayBuffer());
  return reply.send(buffer.length > 0 ? buffer : undefined);
}

export interface HandleOptions<T> {
  federation: Federation<T>;
  contextData: T;
  publicUrl: string;
  /** Answer when Fedify has no route or the client does not want JSON (else: undefined → fall through). */
  onNotFound?: (request: Request) => Response;
  onNotAcceptable?: (request: Request) => Response;
}

const FALL_THROUGH = Symbol('fall-through');

/**
 * Let Fedify answer; returns false when it declined (no route, or not asking for ActivityPub) and
 * no replacement answer was given, so the caller lets Fastify go on.
 */
export async function handleWithFedify<T>(request: FastifyRequest, reply: FastifyReply, options: HandleOptions<T>): Promise<boolean> {
  let declined = false;
  const decline = (fallback?: (r: Request) => Response) => (r: Request) => {
    if (fallback) return fallback(r);
    declined = true;
    return new Response(null, { status: 404, headers: { 'x-fall-through': String(FALL_THROUGH.description) } });
  };
  const response = await options.federation.fetch(toWebRequest(request, options.publicUrl), {
    contextData: options.contextData,
    onNotFound: decline(options.onNotFound),
    onNotAcceptable: decline(options.onNotAcceptable),
  });
  if (declined) return false;
  await sendWebResponse(reply, response);
  return true;
}
