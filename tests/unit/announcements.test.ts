import { describe, expect, it } from 'vitest';
import { normalizeTag, parseTags, prepareAnnouncement, renderMarkdown } from '../../server/announcements/announcements.domain.ts';
import { renderAtom, renderRss, xmlEscape } from '../../server/announcements/announcements.feeds.ts';
import type { AnnouncementRow } from '../../server/announcements/announcements.repository.ts';
import { AppError } from '../../server/core/errors.ts';
import { sanitizeRemoteHtml, sanitizeUserHtml, toPlainText } from '../../server/core/sanitize.ts';

function problemsOf(fn: () => unknown): Array<{ field: string; code: string }> {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('validation_failed');
    return (error as AppError).details as Array<{ field: string; code: string }>;
  }
  throw new Error('expected a validation error');
}

describe('Markdown rendering and sanitizing', () => {
  it('renders Markdown and keeps safe formatting', () => {
    const out = renderMarkdown('# Titre\n\nDu **gras**, un [lien](https://example.org) et\n- une liste');
    expect(out).toContain('<h2>Titre</h2>');
    expect(out).toContain('<strong>gras</strong>');
    expect(out).toContain('<a rel="nofollow noopener ugc" href="https://example.org">lien</a>');
    expect(out).toContain('<li>une liste</li>');
  });

  it('strips scripts, event handlers, styles, frames and javascript: URLs', () => {
    const out = renderMarkdown(
      [
        '<script>alert(1)</script>',
        '<img src="x" onerror="alert(1)">',
        '<img src="https://example.org/ok.png" alt="ok" onload="alert(2)">',
        '<p style="color:red" onclick="alert(3)">texte</p>',
        '[clic](javascript:alert(4))',
        '<a href="JaVaScRiPt:alert(5)">x</a>',
        '<iframe src="https://evil.example"></iframe>',
        '![img](data:image/png;base64,AAAA)',
        '<style>body{}</style>',
      ].join('\n\n'),
    );
    expect(out).not.toMatch(/script|onerror|onload|onclick|style=|javascript:|iframe|data:|<style/i);
    // An image from another site is offered as a link (readers load nothing from elsewhere); one
    // from an instance's media store is shown.
    expect(out).not.toContain('<img');
    expect(out).toContain('<a href="https://example.org/ok.png" rel="nofollow noopener ugc">ok</a>');
    const media = `https://reseau.example/media/${'a'.repeat(64)}.png`;
    expect(renderMarkdown(`![panier](${media}) <img src="${media}" onerror="alert(1)">`)).toBe(
      `<p><img src="${media}" alt="panier" /> <img src="${media}" /></p>\n`,
    );
    expect(out).toContain('texte');
    expect(out).not.toContain('src="x"');
  });

  it('gives every link rel="nofollow noopener ugc", whatever rel or target it had', () => {
    const out = sanitizeUserHtml('<a href="https://a.example" rel="me" target="_blank">a</a>');
    expect(out).toBe('<a rel="nofollow noopener ugc" href="https://a.example">a</a>');
  });

  it('keeps no image in remote HTML: it becomes a link named by its description', () => {
    const out = sanitizeRemoteHtml('<p>Voir <img src="https://remote.example/i.png" alt="un panier"> <img src="javascript:x" alt="b"></p>');
    expect(out).not.toContain('<img');
    expect(out).toContain('<a href="https://remote.example/i.png" rel="nofollow noopener ugc">un panier</a>');
    expect(out).not.toContain('javascript');
  });

  it('strips scripts and handlers from remote HTML too', () => {
    const out = sanitizeRemoteHtml('<p onmouseover="x()">a<script>b()</script><a href="javascript:c()">d</a><span style="x">e</span></p>');
    expect(out).toBe('<p>a<a rel="nofollow noopener ugc">d</a><span>e</span></p>');
  });

  it('keeps no relative link in remote HTML: it would point into this site, not the sender', () => {
    const out = sanitizeRemoteHtml(
      '<p><a href="/admin/users">a</a> <a href="../x">b</a> <a href="https://remote.example/p">c</a> <a href="mailto:x@remote.example">d</a></p>',
    );
    expect(out).toBe(
      '<p><a rel="nofollow noopener ugc">a</a> <a rel="nofollow noopener ugc">b</a> <a rel="nofollow noopener ugc" href="https://remote.example/p">c</a> <a rel="nofollow noopener ugc" href="mailto:x@remote.example">d</a></p>',
    );
  });

  it('drops SVG, MathML, forms, frames, base and meta in both policies, and every data: or protocol-relative image', () => {
    const hostile = [
      '<svg><script>alert(1)</script><a xlink:href="javascript:alert(1)">s</a></svg>',
      '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
      '<form action="https://evil.example"><input name="x"><button>go</button></form>',
      '<iframe src="https://evil.example"></iframe><object data="x"></object><embed src="y">',
      '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://evil.example">',
      '<a href="jav&#x09;ascript:alert(1)">t</a><a href="vbscript:x">v</a><a href="data:text/html,x">d</a>',
      '<img src="data:image/png;base64,AAAA" alt="d"><img src="//evil.example/p.png" alt="p">',
      '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    ].join('');
    for (const out of [sanitizeUserHtml(hostile), sanitizeRemoteHtml(hostile)]) {
      expect(out).not.toMatch(
        /<(svg|math|script|style|form|input|button|iframe|object|embed|base|meta|img)\b|on\w+=|javascript:|vbscript:|data:|evil\.example/i,
      );
    }
  });

  it('makes plain-text excerpts with decoded entities, word boundaries and no markup', () => {
    expect(toPlainText('<p>Bonjour &amp; bienvenue&nbsp;!</p><p>Deuxi&#232;me</p><script>x()</script>', 100)).toBe(
      'Bonjour & bienvenue ! Deuxième',
    );
    const long = toPlainText(`<p>${'mot '.repeat(100)}</p>`, 50);
    expect(Array.from(long).length).toBeLessThanOrEqual(50);
    expect(long.endsWith('…')).toBe(true);
    expect(long).not.toContain('mo…');
  });
});

describe('Announcement rules', () => {
  it('normalises tags: lower case, no #, letters, digits, - and _', () => {
    expect(normalizeTag('#AMAP')).toBe('amap');
    expect(normalizeTag('  Légumes Bio ')).toBe('légumes-bio');
    expect(normalizeTag('fête_2026')).toBe('fête_2026');
    expect(normalizeTag('a.b')).toBeNull();
    expect(normalizeTag('<b>')).toBeNull();
    expect(parseTags('#amap, AMAP, bio local')).toEqual({ tags: ['amap', 'bio', 'local'], invalid: [] });
    expect(parseTags(['ok', 'pas.ok'])).toEqual({ tags: ['ok'], invalid: ['pas.ok'] });
  });

  it('requires a title and a body, limits lengths, and generates the summary from the body', () => {
    const a = prepareAnnouncement({ title: '  Fête  des AMAP ', body: 'La **fête** a lieu samedi.' });
    expect(a.title).toBe('Fête des AMAP');
    expect(a.summary).toBe('La fête a lieu samedi.');
    expect(a.summaryAuto).toBe(true);
    expect(a.status).toBe('draft');
    expect(a.contentHtml).toContain('<strong>fête</strong>');
    const problems = problemsOf(() =>
      prepareAnnouncement({
        title: 'x'.repeat(201),
        body: '  ',
        summary: 's'.repeat(501),
        tags: Array.from({ length: 11 }, (_, i) => `t${i}`),
      }),
    );
    expect(problems.map((p) => p.code).sort()).toEqual(['bodyRequired', 'summaryTooLong', 'titleTooLong', 'tooManyTags']);
    expect(problemsOf(() => prepareAnnouncement({ title: '', body: 'b' })).map((p) => p.code)).toEqual(['titleRequired']);
  });

  it('accepts only http(s) images, and requires their description', () => {
    expect(problemsOf(() => prepareAnnouncement({ title: 't', body: 'b', imageUrl: 'javascript:alert(1)', imageAlt: 'a' }))[0]?.code).toBe(
      'imageUrlInvalid',
    );
    expect(problemsOf(() => prepareAnnouncement({ title: 't', body: 'b', imageUrl: 'https://example.org/a.png' }))[0]?.code).toBe(
      'imageAltRequired',
    );
    const ok = prepareAnnouncement({ title: 't', body: 'b', imageUrl: 'https://example.org/a.png', imageAlt: 'Un panier' });
    expect(ok.imageUrl).toBe('https://example.org/a.png');
    // Without an image, a stray description is not kept.
    expect(prepareAnnouncement({ title: 't', body: 'b', imageUrl: '', imageAlt: 'x' }).imageAlt).toBeNull();
  });

  it('on an edit, keeps a written summary, refreshes a generated one, and refuses to unpublish', () => {
    const generated = prepareAnnouncement({ title: 't', body: 'premier texte', status: 'published' });
    expect(prepareAnnouncement({ body: 'second texte' }, generated).summary).toBe('second texte');
    const written = prepareAnnouncement({ title: 't', body: 'premier', summary: 'Mon résumé' });
    expect(prepareAnnouncement({ body: 'autre' }, written).summary).toBe('Mon résumé');
    expect(problemsOf(() => prepareAnnouncement({ status: 'draft' }, generated))[0]?.code).toBe('cannotUnpublish');
  });
});

describe('Feeds', () => {
  const row = (over: Partial<AnnouncementRow>): AnnouncementRow => ({
    id: '00000000-0000-4000-8000-000000000001',
    ap_id: 'https://a.example/announcements/1',
    origin: 'local',
    actor_id: null,
    network_name: null,
    network_handle: null,
    author_user_id: null,
    title: 'Titre & <b>"guillemets"</b>',
    summary: "L'été < l'hiver \u0001",
    summary_auto: false,
    body_markdown: 'x',
    content_html: '<p>Du <strong>HTML</strong> &amp; ]]> fin</p>',
    url: 'https://a.example/announcements/1',
    image_url: null,
    image_alt: null,
    tags: ['amap'],
    status: 'published',
    published_at: new Date('2026-11-01T10:00:00Z'),
    created_at: new Date('2026-11-01T10:00:00Z'),
    updated_at: new Date('2026-11-02T10:00:00Z'),
    deleted_at: null,
    ...over,
  });
  const info = {
    title: 'Réseau & co',
    description: 'd',
    selfUrl: 'https://a.example/feed.rss',
    pageUrl: 'https://a.example/announcements',
    publicUrl: 'https://a.example',
    instanceName: 'Réseau',
    language: 'fr',
  };

  it('escapes every text and drops characters XML forbids', () => {
    expect(xmlEscape('a & <b> "c" \'d\' \u0000\u0008e')).toBe('a &amp; &lt;b&gt; &quot;c&quot; &apos;d&apos; e');
    const rss = renderRss(info, [row({}), row({ id: '00000000-0000-4000-8000-000000000002', origin: 'remote', network_name: 'AURA' })]);
    expect(rss.match(/<item>/g)).toHaveLength(2);
    expect(rss).toContain('<title>Titre &amp; &lt;b&gt;&quot;guillemets&quot;&lt;/b&gt;</title>');
    expect(rss).toContain('&lt;strong&gt;HTML&lt;/strong&gt; &amp;amp; ]]&gt; fin');
    expect(rss).not.toContain('\u0001');
    const atom = renderAtom(info, [row({})]);
    expect(atom.match(/<entry>/g)).toHaveLength(1);
    expect(atom).toContain('<updated>2026-11-02T10:00:00.000Z</updated>');
  });
});
