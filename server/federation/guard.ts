// The one door through which federation reaches other servers: WebFinger, actor and object
// fetches (Fedify's document loader) and deliveries all go through `guardedFetch`.
// - http(s) only; the host name is resolved and every address checked at connection time (the
//   check is in the socket's lookup, so a DNS answer cannot change between check and connect);
//   private, loopback, link-local and other non-public addresses are refused unless
//   FEDERATION_ALLOW_PRIVATE (tests and the local demo);
// - a whole-request timeout (10 s by default) and a cap on the response size (1 MiB);
// - keep-alive connections, a bounded number per host.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { RemoteDocument } from '@fedify/vocab-runtime';
import { preloadedContexts } from '@fedify/vocab-runtime';

export class GuardError extends Error {
  readonly kind: 'refused' | 'timeout' | 'too_large' | 'network' | 'bad_url';
  /** The HTTP status when the server answered with an error. */
  readonly status: number | undefined;
  constructor(kind: GuardError['kind'], message: string, status?: number) {
    super(message);
    this.name = 'GuardError';
    this.kind = kind;
    this.status = status;
  }
}

export interface GuardedAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer<ArrayBuffer>;
  url: string;
}

export interface GuardOptions {
  allowPrivate: boolean;
  timeoutMs?: number;
  maxBytes?: number;
  userAgent?: string;
}

export interface GuardedInit {
  method?: string;
  headers?: Record<string, string> | Headers;
  body?: string | Uint8Array | null;
  timeoutMs?: number;
  maxBytes?: number;
}

/** True for addresses that must not be reached from the public internet's point of view. */
export function isPrivateAddress(address: string): boolean {
  if (net.isIPv4(address)) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 192 && b === 0) ||
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    );
  }
  const v6 = address.toLowerCase();
  if (v6.startsWith('::ffff:')) return isPrivateAddress(v6.slice(7));
  return (
    v6 === '::' ||
    v6 === '::1' ||
    v6.startsWith('fc') ||
    v6.startsWith('fd') ||
    v6.startsWith('fe8') ||
    v6.startsWith('fe9') ||
    v6.startsWith('fea') ||
    v6.startsWith('feb') ||
    v6.startsWith('ff') ||
    v6.startsWith('64:ff9b:') ||
    v6.startsWith('2001:db8')
  );
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    const family = net.isIP(hostname);
    if (family !== 0) {
      // A literal address (checked in fetch()): no resolver round trip on the thread pool.
      if (options.all) callback(null, [{ address: hostname, family }]);
      else callback(null, hostname, family);
      return;
    }
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as dns.LookupAddress[];
      const bad = list.find((a) => isPrivateAddress(a.address));
      if (bad && !allowPrivate) {
        const refusal = new GuardError('refused', `Refused to connect to ${hostname}: it resolves to a private address`);
        return callback(refusal as unknown as NodeJS.ErrnoException, []);
      }
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`No address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

export class OutboundGuard {
  readonly #allowPrivate: boolean;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #userAgent: string;
  readonly #httpAgent: http.Agent;
  readonly #httpsAgent: https.Agent;

  constructor(options: GuardOptions) {
    this.#allowPrivate = options.allowPrivate;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxBytes = options.maxBytes ?? 1024 * 1024;
    this.#userAgent = options.userAgent ?? 'amap-hub';
    const lookup = guardedLookup(this.#allowPrivate) as unknown as net.LookupFunction;
    this.#httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8, lookup } as http.AgentOptions);
    this.#httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 8, lookup } as https.AgentOptions);
  }

  get allowPrivate(): boolean {
    return this.#allowPrivate;
  }

  /** Fetch `url` through the guard; answers a web Response (its body is already read, capped). */
  async fetch(url: string | URL, init: GuardedInit = {}): Promise<Response> {
    const answer = await this.exchange(url, init);
    const responseHeaders = new Headers();
    for (const [k, v] of Object.entries(answer.headers)) {
      if (Array.isArray(v)) for (const item of v) responseHeaders.append(k, item);
      else if (v !== undefined) responseHeaders.set(k, v);
    }
    const { status } = answer;
    const nullBody = status === 204 || status === 304 || (status >= 100 && status < 200);
    const response = new Response(nullBody ? null : answer.body, { status, headers: responseHeaders });
    Object.defineProperty(response, 'url', { value: answer.url });
    return response;
  }

  /**
   * The same door without building web Request/Response objects: deliveries only need the
   * status, and a fan-out makes thousands of them.
   */
  async exchange(url: string | URL, init: GuardedInit = {}): Promise<GuardedAnswer> {
    let target: URL;
    try {
      target = typeof url === 'string' ? new URL(url) : url;
    } catch {
      throw new GuardError('bad_url', `Not a URL: ${String(url)}`);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new GuardError('bad_url', `Only http and https URLs may be fetched (${target.protocol})`);
    }
    if (target.username || target.password) throw new GuardError('bad_url', 'URLs with credentials are refused');
    // Literal IP addresses skip DNS: check them here.
    if (!this.#allowPrivate) {
      const literal = target.hostname.replace(/^\[|\]$/g, '');
      if (net.isIP(literal) && isPrivateAddress(literal)) {
        throw new GuardError('refused', `Refused to connect to ${target.host}: it is a private address`);
      }
    }
    const headers: Record<string, string> = { 'user-agent': this.#userAgent };
    if (init.headers instanceof Headers) {
      for (const [k, v] of init.headers) headers[k] = v;
    } else Object.assign(headers, init.headers ?? {});
    const body =
      typeof init.body === 'string' || (init.body && !Buffer.isBuffer(init.body)) ? Buffer.from(init.body) : (init.body ?? undefined);
    if (body) headers['content-length'] = String(body.length);
    const timeoutMs = init.timeoutMs ?? this.#timeoutMs;
    const maxBytes = init.maxBytes ?? this.#maxBytes;
    const lib = target.protocol === 'https:' ? https : http;
    const agent = target.protocol === 'https:' ? this.#httpsAgent : this.#httpAgent;

    return new Promise<GuardedAnswer>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new GuardError('timeout', `${target.host} did not answer within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      const req = lib.request(target, { method: init.method ?? 'GET', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) return fail(new GuardError('too_large', `${target.host} sent more than ${maxBytes} bytes`));
          chunks.push(chunk);
        });
        res.on('error', (error) => fail(new GuardError('network', error.message)));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks), url: target.href });
        });
      });
      req.on('error', (error) => {
        if (error instanceof GuardError) return fail(error);
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return fail(new GuardError('network', `Unknown host ${target.host}`));
        fail(new GuardError('network', `${target.host} could not be reached (${code ?? error.message})`));
      });
      req.end(body);
    });
  }

  /** A JSON-LD document loader for Fedify: preloaded contexts locally, everything else guarded. */
  documentLoader = async (url: string): Promise<RemoteDocument> => {
    const preloaded = preloadedContexts[url];
    if (preloaded !== undefined) return { contextUrl: null, documentUrl: url, document: preloaded };
    const response = await this.fetch(url, {
      headers: { accept: 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"' },
    });
    if (!response.ok) throw new GuardError('network', `HTTP ${response.status} from ${url}`, response.status);
    let document: unknown;
    try {
      document = JSON.parse(await response.text());
    } catch {
      throw new GuardError('network', `${url} did not answer with JSON`);
    }
    return { contextUrl: null, documentUrl: response.url || url, document };
  };

  close(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }
}
