// The key that signs an incoming activity must be hosted on its actor's server. Fedify accepts a
// key document that merely names the actor as its `owner`, wherever it is hosted (its ownership
// check trusts `owner` without asking the actor): a server could then sign, with its own key, an
// activity claiming to come from someone else's actor (tested in
// tests/integration/federation-direct-inbox.integration.test.ts). Mastodon, Pleroma, Misskey and
// GoToSocial all host an actor's key under the actor's own URL, so requiring the same origin
// refuses no genuine sender.

/** The key id of a draft-cavage `Signature` or an RFC 9421 `Signature-Input` header; undefined if none. */
export function signingKeyId(headers: Record<string, string | string[] | undefined>): string | undefined {
  const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  const draft = first(headers.signature);
  const input = first(headers['signature-input']);
  if (input) return /;\s*keyid="([^"]*)"/i.exec(input)?.[1];
  if (draft) return /(?:^|,)\s*keyId="([^"]*)"/.exec(draft)?.[1];
  return undefined;
}

/** False when the request is signed by a key hosted on another server than `actorId`. */
export function keyOnActorServer(headers: Record<string, string | string[] | undefined>, actorId: string): boolean {
  const keyId = signingKeyId(headers);
  if (keyId === undefined) return true; // unsigned: Fedify answers 401
  try {
    return new URL(keyId).origin === new URL(actorId).origin;
  } catch {
    return false;
  }
}
