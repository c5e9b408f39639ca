// Small real files for the library tests: a zip writer (stored or deflated entries), and the
// documents built with it (ODT, DOCX), a minimal PDF, PNG, and an archive bomb.
import zlib from 'node:zlib';

export interface ZipInput {
  name: string;
  data: Buffer;
  deflate?: boolean;
}

export function makeZip(entries: ZipInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const body = entry.deflate ? zlib.deflateRawSync(entry.data) : entry.data;
    const crc = zlib.crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(entry.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(entry.deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

export function makeOdt(text = 'Contrat type'): Buffer {
  return makeZip([
    { name: 'mimetype', data: Buffer.from('application/vnd.oasis.opendocument.text') },
    {
      name: 'content.xml',
      data: Buffer.from(`<?xml version="1.0"?><office:document-content><text>${text}</text></office:document-content>`),
      deflate: true,
    },
    { name: 'META-INF/manifest.xml', data: Buffer.from('<manifest/>'), deflate: true },
  ]);
}

export function makeDocx(text = 'Contrat type'): Buffer {
  return makeZip([
    { name: '[Content_Types].xml', data: Buffer.from('<Types/>'), deflate: true },
    { name: 'word/document.xml', data: Buffer.from(`<w:document><w:t>${text}</w:t></w:document>`), deflate: true },
  ]);
}

export function makePdf(text = 'Bonjour'): Buffer {
  return Buffer.from(`%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${text}\ntrailer << /Root 1 0 R >>\n%%EOF\n`, 'latin1');
}

export function makePng(): Buffer {
  return Buffer.from(
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082',
    'hex',
  );
}

/** A DOCX-looking archive whose one entry expands to `megabytes` MB of zeros. */
export function makeZipBomb(megabytes = 40): Buffer {
  return makeZip([
    { name: '[Content_Types].xml', data: Buffer.from('<Types/>'), deflate: true },
    { name: 'word/document.xml', data: Buffer.alloc(megabytes * 1024 * 1024), deflate: true },
  ]);
}
