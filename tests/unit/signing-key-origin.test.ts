import { describe, expect, it } from 'vitest';
import { keyOnActorServer, signingKeyId } from '../../server/federation/signing-key-origin.ts';

describe('signing key origin', () => {
  const actor = 'https://nord.example/actor';
  it('reads the key id of draft-cavage and RFC 9421 signatures', () => {
    expect(
      signingKeyId({ signature: 'keyId="https://nord.example/actor#main-key",algorithm="rsa-sha256",headers="date",signature="x"' }),
    ).toBe('https://nord.example/actor#main-key');
    expect(
      signingKeyId({ 'signature-input': 'sig1=("@method" "@target-uri");alg="rsa-v1_5-sha256";keyid="https://nord.example/k";created=1' }),
    ).toBe('https://nord.example/k');
    expect(signingKeyId({})).toBeUndefined();
  });

  it('accepts keys on the actor’s server (and unsigned requests, refused later); refuses others', () => {
    expect(keyOnActorServer({ signature: 'keyId="https://nord.example/actor#main-key"' }, actor)).toBe(true);
    expect(keyOnActorServer({}, actor)).toBe(true);
    expect(keyOnActorServer({ signature: 'keyId="https://intrus.example/keys/nord"' }, actor)).toBe(false);
    expect(keyOnActorServer({ signature: 'keyId="http://nord.example/actor#main-key"' }, actor)).toBe(false);
    expect(keyOnActorServer({ signature: 'keyId="not a url"' }, actor)).toBe(false);
    expect(keyOnActorServer({ 'signature-input': 'sig1=();keyid="https://intrus.example/k"' }, actor)).toBe(false);
  });
});
