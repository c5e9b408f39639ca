// The direct inbox's HTTP Signature check (draft-cavage, as Mastodon signs) against requests
// signed by Fedify's own signRequest (what our instances and the fake servers send), and every
// way a request can fail: it must say no, never yes, to anything not signed as required.
import crypto from 'node:crypto';
import { generateCryptoKeyPair, signRequest } from '@fedify/fedify';
import { beforeAll, describe, expect, it } from 'vitest';
import { digestMatches, parseSignatureHeader, type SignedRequest, verifyDraftSignature } from '../../server/federation/signature-draft.ts';

const INBOX = 'https://hub.example/inbox';
const WINDOW = 3600_000;
let publicKey: crypto.KeyObject;
let otherKey: crypto.KeyObject;
let signed: SignedRequest;
let header: string;

async function signedRequest(body: string) {
  const keys = await generateCryptoKeyPair('RSASSA-PKCS1-v1_5');
  const request = new Request(INBOX, { method: 'POST', headers: { 'content-type': 'application/activity+json' }, body });
  const out = await signRequest(request, keys.privateKey, new URL('https://nord.example/actor#main-key'), {
    spec: 'draft-cavage-http-signatures-12',
  });
  const headers: Record<string, string> = { host: 'hub.example' };
  out.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return { keys, headers };
}

beforeAll(async () => {
  const body = JSON.stringify({ type: 'Create', object: { type: 'Article', name: 'Fête' } });
  const { keys, headers } = await signedRequest(body);
  publicKey = crypto.KeyObject.from(keys.publicKey);
  otherKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  header = headers.signature as string;
  signed = { method: 'POST', target: '/inbox', headers, body: Buffer.from(body) };
});

describe('draft-cavage signatures', () => {
  it('accepts what Fedify signs, with the right key, now', async () => {
    const signature = parseSignatureHeader(header);
    expect(signature?.keyId).toBe('https://nord.example/actor#main-key');
    expect(signature?.headers).toEqual(expect.arrayContaining(['(request-target)', 'host', 'date', 'digest']));
    expect(await verifyDraftSignature(signed, signature!, publicKey, Date.now(), WINDOW)).toBe(true);
  });

  it('refuses a tampered body, another key, another target, a stale or future date', async () => {
    const signature = parseSignatureHeader(header)!;
    const now = Date.now();
    expect(await verifyDraftSignature({ ...signed, body: Buffer.from('{"type":"Delete"}') }, signature, publicKey, now, WINDOW)).toBe(
      false,
    );
    expect(await verifyDraftSignature(signed, signature, otherKey, now, WINDOW)).toBe(false);
    expect(await verifyDraftSignature({ ...signed, target: '/ap/actors/reseau/inbox' }, signature, publicKey, now, WINDOW)).toBe(false);
    expect(
      await verifyDraftSignature({ ...signed, headers: { ...signed.headers, host: 'evil.example' } }, signature, publicKey, now, WINDOW),
    ).toBe(false);
    expect(await verifyDraftSignature(signed, signature, publicKey, now + 2 * WINDOW, WINDOW)).toBe(false);
    expect(await verifyDraftSignature(signed, signature, publicKey, now - 2 * WINDOW, WINDOW)).toBe(false);
  });

  it('refuses a signature that leaves out a required header, or another algorithm', async () => {
    const signature = parseSignatureHeader(header)!;
    const now = Date.now();
    for (const left of ['(request-target)', 'host', 'date', 'digest']) {
      const partial = { ...signature, headers: signature.headers.filter((h) => h !== left) };
      expect(await verifyDraftSignature(signed, partial, publicKey, now, WINDOW), left).toBe(false);
    }
    expect(await verifyDraftSignature(signed, { ...signature, algorithm: 'hmac-sha256' }, publicKey, now, WINDOW)).toBe(false);
    const { digest: _omit, ...withoutDigest } = signed.headers;
    expect(await verifyDraftSignature({ ...signed, headers: withoutDigest }, signature, publicKey, now, WINDOW)).toBe(false);
  });

  it('reads only well-formed Signature headers', () => {
    expect(parseSignatureHeader('keyId="k",headers="date",signature="abc="')).not.toBeNull();
    expect(parseSignatureHeader('keyId="k",headers="date"')).toBeNull();
    expect(parseSignatureHeader('keyId="k",headers="date",signature="abc=",created=1700000000')).toBeNull();
    expect(parseSignatureHeader('garbage')).toBeNull();
    expect(parseSignatureHeader('keyId="k",headers="date",signature="not base64!"')).toBeNull();
  });

  it('checks every SHA-256 or SHA-512 digest given, and needs one', () => {
    const body = Buffer.from('bonjour');
    const sha256 = crypto.createHash('sha256').update(body).digest('base64');
    const sha512 = crypto.createHash('sha512').update(body).digest('base64');
    expect(digestMatches(`SHA-256=${sha256}`, body)).toBe(true);
    expect(digestMatches(`sha-256=${sha256}, SHA-512=${sha512}`, body)).toBe(true);
    expect(digestMatches(`SHA-256=${sha256}, SHA-512=${sha256}`, body)).toBe(false);
    expect(digestMatches(`MD5=${sha256}`, body)).toBe(false);
    expect(digestMatches(undefined, body)).toBe(false);
    expect(digestMatches(`SHA-256=${sha256}`, Buffer.from('bonsoir'))).toBe(false);
  });
});
