// Checking an HTTP Signature as Mastodon makes and checks them (draft-cavage-http-signatures-12,
// `rsa-sha256` or `hs2019` with an RSA key), for the direct inbox (inbox-direct.ts). Fedify's
// `verifyRequest` does the same through web `Request` objects, WebCrypto jobs and the Temporal
// polyfill: about 0.6 ms of CPU per activity here, a third of the direct inbox's cost; this is
// Node's synchronous crypto on a key object kept in memory.
//
// It only ever says yes or no: a no is never an answer to the sender. The caller then hands the
// request to Fedify, which checks it again (fetching the key afresh, so a rotated key is found)
// and answers 401 itself when it fails there too.
import crypto from 'node:crypto';

export interface DraftSignature {
  keyId: string;
  algorithm: string | undefined;
  headers: string[];
  signature: Buffer;
}

/** The `Signature` header's fields; null when one that is needed is missing or malformed. */
export function parseSignatureHeader(value: string): DraftSignature | null {
  const fields = new Map<string, string>();
  for (const part of value.split(',')) {
    const match = /^\s*([A-Za-z]+)="([^"]*)"\s*$/.exec(part);
    if (!match) return null; // created/expires (unquoted numbers) and anything unusual: Fedify decides
    fields.set(match[1] as string, match[2] as string);
  }
  const keyId = fields.get('keyId');
  const headers = fields.get('headers');
  const signature = fields.get('signature');
  if (!keyId || !headers || !signature || !/^[A-Za-z0-9+/]+=*$/.test(signature)) return null;
  return {
    keyId,
    algorithm: fields.get('algorithm')?.toLowerCase(),
    headers: headers.toLowerCase().split(/\s+/),
    signature: Buffer.from(signature, 'base64'),
  };
}

/** What the signed request carried. `headers` as Node gives them: lower-case names. */
export interface SignedRequest {
  method: string;
  /** The path and query exactly as requested. */
  target: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const header = (request: SignedRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

/** The Digest header matches the body: every SHA-256/SHA-512 value it gives, and at least one. */
export function digestMatches(digestHeader: string | undefined, body: Buffer): boolean {
  if (!digestHeader) return false;
  let matched = false;
  for (const part of digestHeader.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const algorithm = part.slice(0, at).trim().toLowerCase();
    const hash = algorithm === 'sha-256' ? 'sha256' : algorithm === 'sha-512' ? 'sha512' : undefined;
    if (!hash) continue;
    const given = Buffer.from(part.slice(at + 1).trim(), 'base64');
    const actual = crypto.createHash(hash).update(body).digest();
    if (given.length !== actual.length || !crypto.timingSafeEqual(given, actual)) return false;
    matched = true;
  }
  return matched;
}

/**
 * Whether `request` is signed by `key` with `signature` (parsed from its header), with a Date
 * within `windowMs` of `now` and a Digest of its body, both signed, as is the request target.
 */
export function verifyDraftSignature(
  request: SignedRequest,
  signature: DraftSignature,
  key: crypto.KeyObject,
  now: number,
  windowMs: number,
): Promise<boolean> {
  const no = Promise.resolve(false);
  if (signature.algorithm !== undefined && signature.algorithm !== 'rsa-sha256' && signature.algorithm !== 'hs2019') return no;
  if (key.asymmetricKeyType !== 'rsa') return no;
  const signed = signature.headers;
  for (const needed of ['(request-target)', 'host', 'date', 'digest']) if (!signed.includes(needed)) return no;
  const date = Date.parse(header(request, 'date') ?? '');
  if (Number.isNaN(date) || Math.abs(now - date) > windowMs) return no;
  if (!digestMatches(header(request, 'digest'), request.body)) return no;
  const lines: string[] = [];
  for (const name of signed) {
    if (name === '(request-target)') lines.push(`(request-target): ${request.method.toLowerCase()} ${request.target}`);
    else {
      const value = header(request, name);
      if (value === undefined || name.startsWith('(')) return no; // (created), (expires): Fedify decides
      lines.push(`${name}: ${value}`);
    }
  }
  // On libuv's thread pool: the RSA check runs beside the event loop, on the other core.
  return new Promise((resolve) =>
    crypto.verify('sha256', Buffer.from(lines.join('\n')), key, signature.signature, (error, valid) => resolve(!error && valid)),
  );
}
