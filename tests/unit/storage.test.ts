import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../server/core/errors.ts';
import { contentDisposition, safeFileName } from '../../server/storage/file-name.ts';
import { contentCheck, detectKind } from '../../server/storage/file-type.ts';
import { LocalFileStorage } from '../../server/storage/local-storage.ts';
import type { ContentSample } from '../../server/storage/storage.ts';
import { readCentralDirectory, ZipRefused } from '../../server/storage/zip.ts';
import { makeDocx, makeOdt, makePdf, makePng, makeZip, makeZipBomb } from '../helpers/resources-fixtures.ts';

function sample(buf: Buffer): ContentSample {
  let utf8 = true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    utf8 = false;
  }
  return {
    head: buf.subarray(0, 65536),
    tail: buf.subarray(Math.max(0, buf.length - 1024 * 1024)),
    size: buf.length,
    utf8,
    hasNul: buf.includes(0),
  };
}

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('not refused');
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function storage(): LocalFileStorage {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'amap-storage-'));
  dirs.push(dir);
  return new LocalFileStorage(path.join(dir, 'files'));
}
function filesUnder(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((p) => fs.statSync(path.join(root, p)).isFile());
}

describe('file type from content', () => {
  it('recognises each accepted kind by its bytes', () => {
    expect(detectKind(sample(makePdf()))).toBe('pdf');
    expect(detectKind(sample(makeOdt()))).toBe('odt');
    expect(detectKind(sample(makeDocx()))).toBe('docx');
    expect(detectKind(sample(makePng()))).toBe('png');
    expect(detectKind(sample(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])))).toBe('jpeg');
    expect(detectKind(sample(Buffer.from('GIF89a\x01\x00', 'latin1')))).toBe('gif');
    expect(detectKind(sample(Buffer.from('RIFF\x00\x00\x00\x00WEBPVP8 ', 'latin1')))).toBe('webp');
    expect(detectKind(sample(Buffer.from('Liste des légumes : carottes, poireaux\n')))).toBe('text');
    const ods = makeZip([{ name: 'mimetype', data: Buffer.from('application/vnd.oasis.opendocument.spreadsheet') }]);
    expect(detectKind(sample(ods))).toBe('ods');
    const xlsx = makeZip([
      { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
      { name: 'xl/workbook.xml', data: Buffer.from('<workbook/>') },
    ]);
    expect(detectKind(sample(xlsx))).toBe('xlsx');
  });

  it('refuses a PDF renamed .docx, naming what it really is', () => {
    const error = refusal(() => contentCheck('contrat.docx')(sample(makePdf())));
    expect(error.status).toBe(415);
    expect(error.message).toMatch(/PDF.*\.docx.*rename it to \.pdf/);
    expect(contentCheck('contrat.pdf')(sample(makePdf()))).toBe('pdf');
    expect(contentCheck('sans-extension')(sample(makePdf()))).toBe('pdf');
  });

  it('refuses HTML and SVG, by content and by name', () => {
    expect(refusal(() => detectKind(sample(Buffer.from('<!DOCTYPE html><script>alert(1)</script>')))).message).toMatch(/HTML and SVG/);
    expect(refusal(() => detectKind(sample(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')))).status).toBe(415);
    expect(refusal(() => detectKind(sample(Buffer.from('\uFEFF  <?xml version="1.0"?><svg/>')))).status).toBe(415);
    expect(refusal(() => detectKind(sample(Buffer.from('note\n<script>alert(1)</script>')))).status).toBe(415);
    expect(refusal(() => contentCheck('page.html')(sample(Buffer.from('just text')))).message).toMatch(/\.html are not accepted/);
  });

  it('refuses binary junk, empty files and zips that are not office documents', () => {
    expect(refusal(() => detectKind(sample(Buffer.from([0, 1, 2, 3, 0xfe]))))).toBeInstanceOf(AppError);
    expect(refusal(() => detectKind(sample(Buffer.alloc(0)))).message).toMatch(/empty/);
    expect(refusal(() => detectKind(sample(makeZip([{ name: 'a.txt', data: Buffer.from('x') }])))).message).toMatch(
      /not an office document/,
    );
  });

  it('refuses an archive bomb from its table of contents, without expanding it', () => {
    const bomb = makeZipBomb(40);
    expect(bomb.length).toBeLessThan(200_000);
    const error = refusal(() => detectKind(sample(bomb)));
    expect(error.message).toMatch(/archive bomb/);
    expect(() => readCentralDirectory(bomb, bomb.length, { maxEntries: 10, maxTotalUncompressed: 1024, maxRatio: 100 })).toThrow(
      ZipRefused,
    );
    const many = makeZip(Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, data: Buffer.from('x') })));
    expect(() => readCentralDirectory(many, many.length, { maxEntries: 10, maxTotalUncompressed: 1e9, maxRatio: 100 })).toThrow(
      /30 entries/,
    );
    const evil = makeZip([
      { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
      { name: '../../etc/passwd', data: Buffer.from('x') },
    ]);
    expect(refusal(() => detectKind(sample(evil))).status).toBe(415);
    const truncated = makeDocx().subarray(0, 60);
    expect(refusal(() => detectKind(sample(truncated))).message).toMatch(/archive/);
  });
});

describe('file names', () => {
  it('strips path parts, control and direction characters, keeps Unicode', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('C:\\Users\\marie\\Contrat été.pdf')).toBe('Contrat été.pdf');
    expect(safeFileName('facture\u202Efdp.exe')).toBe('facturefdp.exe');
    expect(safeFileName('a\u0000b\nc.txt')).toBe('abc.txt');
    expect(safeFileName('..')).toBe('fichier');
    expect(safeFileName('.htaccess')).toBe('htaccess');
    expect(safeFileName('')).toBe('fichier');
    expect(safeFileName(`${'x'.repeat(400)}.pdf`)).toMatch(/^x{146}\.pdf$/);
    expect(safeFileName('réunion "AG" <2026>.odt')).toBe('réunion _AG_ _2026_.odt');
  });

  it('sends the exact name in Content-Disposition with an ASCII fallback', () => {
    expect(contentDisposition('attachment', 'Contrat été.pdf')).toBe(
      `attachment; filename="Contrat ete.pdf"; filename*=UTF-8''Contrat%20%C3%A9t%C3%A9.pdf`,
    );
  });
});

describe('local file storage', () => {
  it('stores by content hash in sharded folders, deduplicates, reads back, deletes', async () => {
    const s = storage();
    const data = makePdf('une fois');
    const first = await s.put(Readable.from([data]), { maxBytes: 1000 });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.created).toBe(true);
    expect(fs.existsSync(path.join(s.root, first.hash.slice(0, 2), first.hash.slice(2, 4), first.hash))).toBe(true);
    const second = await s.put(Readable.from([data.subarray(0, 10), data.subarray(10)]), { maxBytes: 1000 });
    expect(second).toMatchObject({ hash: first.hash, size: data.length, created: false });
    expect(filesUnder(s.root)).toHaveLength(1);
    const chunks: Buffer[] = [];
    for await (const c of await s.get(first.hash)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect(await s.exists(first.hash)).toBe(true);
    await s.delete(first.hash);
    expect(await s.exists(first.hash)).toBe(false);
    await expect(s.get(first.hash)).rejects.toThrow(/missing/);
    await expect(s.get('../../etc/passwd')).rejects.toThrow(AppError);
  });

  it('aborts an oversized stream while it arrives and leaves nothing behind', async () => {
    const s = storage();
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 16 * 1024;
        this.push(Buffer.alloc(16 * 1024, 0x61));
        if (produced > 10 * 1024 * 1024) this.push(null);
      },
    });
    await expect(s.put(endless, { maxBytes: 100 * 1024 })).rejects.toMatchObject({ code: 'payload_too_large' });
    expect(produced).toBeLessThan(1024 * 1024);
    expect(filesUnder(s.root)).toEqual([]);
  });

  it('keeps nothing when the check refuses the content or the source fails midway', async () => {
    const s = storage();
    await expect(s.put(Readable.from([makePdf()]), { maxBytes: 10_000, check: contentCheck('x.docx') })).rejects.toMatchObject({
      status: 415,
    });
    const failing = new Readable({
      read() {
        this.push(Buffer.from('début '));
        this.destroy(new Error('client hung up'));
      },
    });
    await expect(s.put(failing, { maxBytes: 10_000 })).rejects.toThrow(/hung up/);
    expect(filesUnder(s.root)).toEqual([]);
    expect(s.temporaryCount()).toBe(0);
  });
});
