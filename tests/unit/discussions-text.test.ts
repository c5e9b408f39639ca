import { describe, expect, it } from 'vitest';
import { parseMentionsAndTags, renderPostMarkdown } from '../../server/discussions/discussions.text.ts';

describe('parseMentionsAndTags', () => {
  it('finds mentions with host (port included) and hashtags, in order, without duplicates', () => {
    const text = 'Bonjour @alice@amap-aura.org et @Bob@127.0.0.1:3001 ! #AMAP #bio #amap @alice@amap-aura.org';
    expect(parseMentionsAndTags(text)).toEqual({ mentions: ['alice@amap-aura.org', 'Bob@127.0.0.1:3001'], tags: ['amap', 'bio'] });
  });

  it('ends a mention before sentence punctuation and lowers the host', () => {
    expect(parseMentionsAndTags('Merci @paul@Exemple.ORG.').mentions).toEqual(['paul@exemple.org']);
  });

  it('ignores emails, URL fragments, numbers, and code', () => {
    const text = 'Écrire à contact@amap.org, voir https://amap.org/page#section, ticket #42, `#code @x@y.z`\n```\n#bloc @a@b.c\n```';
    expect(parseMentionsAndTags(text)).toEqual({ mentions: [], tags: [] });
  });

  it('keeps accented tags and counts a bare @user as local only when a local host is given', () => {
    expect(parseMentionsAndTags('#Été @marie')).toEqual({ mentions: [], tags: ['été'] });
    expect(parseMentionsAndTags('(@marie)', { localHost: 'hub.example' }).mentions).toEqual(['marie@hub.example']);
  });
});

describe('renderPostMarkdown', () => {
  const base = 'https://hub.example';

  it('links mentions and tags, drops scripts and every image', () => {
    const out = renderPostMarkdown(
      'Salut @bob@autre.example et @alice : #Semences\n\n<script>alert(1)</script><img src="https://tracker.example/p.gif"> ![x](https://t.example/y.png) <a href="javascript:alert(1)" onclick="x()">lien</a>',
      base,
    );
    expect(out.html).toContain('<a rel="nofollow noopener ugc" href="https://autre.example/@bob">@bob@autre.example</a>');
    expect(out.html).toContain('href="https://hub.example/ap/actors/alice"');
    expect(out.html).toContain('href="https://hub.example/groups?tag=semences"');
    expect(out.html).not.toMatch(/<img|<script|javascript:|onclick/i);
    expect(out.mentions).toEqual(['bob@autre.example', 'alice@hub.example']);
    expect(out.tags).toEqual(['semences']);
    expect(out.text).not.toContain('alert');
  });
});
