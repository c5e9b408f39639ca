// Which incoming activities the direct inbox reads itself: only those whose compact JSON means
// what it says without JSON-LD processing, from the actor on its own server. Everything else is
// left to Fedify (null).
import { describe, expect, it } from 'vitest';
import { plainAnnouncement, plainContext } from '../../server/federation/inbox-direct.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
const actor = 'https://nord.example/actor';

function create(object: Record<string, unknown> = {}, fields: Record<string, unknown> = {}) {
  return {
    '@context': [AS, 'https://w3id.org/security/v1', { Hashtag: 'as:Hashtag', toot: 'http://joinmastodon.org/ns#' }],
    id: 'https://nord.example/activities/1',
    type: 'Create',
    actor,
    object: {
      id: 'https://nord.example/articles/1',
      type: 'Article',
      attributedTo: actor,
      name: 'Fête des AMAP',
      summary: 'Le 12 juin',
      content: '<p>Venez</p>',
      url: { type: 'Link', href: 'https://nord.example/a/1' },
      published: '2026-11-29T10:00:00Z',
      updated: '2026-11-29T11:00:00Z',
      tag: [
        { type: 'Hashtag', name: '#bio' },
        { type: 'Mention', href: 'https://x.example/u' },
      ],
      ...object,
    },
    ...fields,
  };
}

describe('plainContext', () => {
  it('accepts ActivityStreams with known contexts and harmless inline terms', () => {
    expect(plainContext(AS)).toBe(true);
    expect(plainContext(['https://w3id.org/identity/v1', AS, 'https://w3id.org/security/data-integrity/v1'])).toBe(true);
    expect(plainContext([AS, { Hashtag: 'as:Hashtag', sensitive: 'as:sensitive' }])).toBe(true);
  });

  it('refuses contexts that could change the meaning of what is read', () => {
    expect(plainContext(undefined)).toBe(false);
    expect(plainContext('https://w3id.org/security/v1')).toBe(false); // no ActivityStreams
    expect(plainContext([AS, 'https://evil.example/context'])).toBe(false);
    expect(plainContext([AS, 'https://w3id.org/identity/v1'])).toBe(false); // after AS, its terms would win
    expect(plainContext([AS, { name: 'http://schema.org/name' }])).toBe(false);
    expect(plainContext([AS, { '@vocab': 'http://schema.org/' }])).toBe(false);
    expect(plainContext([AS, 42])).toBe(false);
  });
});

describe('plainAnnouncement', () => {
  it('reads a plain Create(Article)', () => {
    const read = plainAnnouncement(create());
    expect(read).toEqual({
      actor,
      create: true,
      post: {
        apId: 'https://nord.example/articles/1',
        url: 'https://nord.example/a/1',
        title: 'Fête des AMAP',
        summary: 'Le 12 juin',
        contentHtml: '<p>Venez</p>',
        tags: ['bio'],
        publishedAt: new Date('2026-11-29T10:00:00Z'),
        updatedAt: new Date('2026-11-29T11:00:00Z'),
      },
    });
    expect(plainAnnouncement(create({}, { type: 'Update' }))?.create).toBe(false);
  });

  it('leaves everything else to Fedify', () => {
    const cases: Array<[string, unknown]> = [
      ['a Note', create({ type: 'Note' })],
      ['a Document', create({ type: 'Document' })],
      ['a Delete', create({}, { type: 'Delete' })],
      ['an object by someone else', create({ attributedTo: 'https://nord.example/other' })],
      ['an object on another server', create({ id: 'https://sud.example/articles/1' })],
      ['an activity id on another server', create({}, { id: 'https://sud.example/activities/1' })],
      ['an object by reference', create({}, { object: 'https://nord.example/articles/1' })],
      ['an actor as an object', create({}, { actor: { id: actor } })],
      ['a language map only', create({ content: undefined, contentMap: { fr: '<p>Venez</p>' } })],
      ['a name that is not a string', create({ name: ['a', 'b'] })],
      ['an unreadable date', create({ published: 'demain' })],
      ['an unusual tag', create({ tag: ['#bio'] })],
      ['an embedded context', create({ '@context': AS })],
      ['an unknown context', create({}, { '@context': [AS, 'https://evil.example/ctx'] })],
      ['a type list', create({}, { type: ['Create'] })],
    ];
    for (const [what, activity] of cases) expect(plainAnnouncement(activity as Record<string, unknown>), what).toBeNull();
  });
});
