// HTTP Signatures for deliveries, as Mastodon checks them (draft-cavage-http-signatures-12,
// rsa-sha256, over (request-target), host, date, digest and content-type). Written here rather
// than through Fedify's signRequest because a fan-out signs the same body for thousands of
// inboxes: the body is serialised and digested once per activity, the key is a Node KeyObject
// derived once (no re-import), no web Request is built, and the RSA operation runs on libuv's
// thread pool (crypto.sign with a callback), so both cores sign while the event loop posts.
import crypto from 'node:crypto';

export interface PreparedBody {
  text: string;
  bytes: Buffer;
  /** The `Digest` header value. */
  digest: string;
}

export function prepareBody(activity: unknown): PreparedBody {
  const text = JSON.stringify(activity);
  const bytes = Buffer.from(text, 'utf8');
  return { text, bytes, digest: `SHA-256=${crypto.createHash('sha256').update(bytes).digest('base64')}` };
}

const CONTENT_TYPE = 'application/activity+json';

export class Signer {
  readonly #key: crypto.KeyObject;
  readonly #keyId: string;

  constructor(privateKey: CryptoKey, keyId: string) {
    this.#key = crypto.KeyObject.from(privateKey);
    this.#keyId = keyId;
  }

  /** The headers of a signed POST of `body` to `inbox`. */
  async headers(inbox: URL, body: PreparedBody, now = new Date()): Promise<Record<string, string>> {
    const date = now.toUTCString();
    const message = [
      `(request-target): post ${inbox.pathname}`,
      `host: ${inbox.host}`,
      `date: ${date}`,
      `digest: ${body.digest}`,
      `content-type: ${CONTENT_TYPE}`,
    ].join('\n');
    const signature = await new Promise<Buffer>((resolve, reject) =>
      crypto.sign('sha256', Buffer.from(message, 'utf8'), this.#key, (error, result) => (error ? reject(error) : resolve(result))),
    );
    return {
      host: inbox.host,
      date,
      digest: body.digest,
      'content-type': CONTENT_TYPE,
      accept: CONTENT_TYPE,
      signature: `keyId="${this.#keyId}",algorithm="rsa-sha256",headers="(request-target) host date digest content-type",signature="${signature.toString('base64')}"`,
    };
  }
}
