// Reads the central directory of a zip archive (the table of contents at its end) without
// decompressing anything, to recognise office documents (ODF, OOXML) and to refuse archive bombs:
// too many entries, too much declared uncompressed data, or a compression ratio no real document
// has. Only what is needed for that is parsed; ZIP64 archives are refused (no document under the
// upload limit needs one, and they are a common way to hide sizes).
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
}

export interface ZipLimits {
  maxEntries: number;
  maxTotalUncompressed: number;
  /** Largest ratio of the total declared uncompressed size to the archive size. */
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 5000,
  maxTotalUncompressed: 256 * 1024 * 1024,
  maxRatio: 100,
};

export class ZipRefused extends Error {
  readonly reason: 'malformed' | 'zip64' | 'entries' | 'size' | 'ratio' | 'name';
  constructor(reason: ZipRefused['reason'], message: string) {
    super(message);
    this.name = 'ZipRefused';
    this.reason = reason;
  }
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const ZIP64_LOCATOR = 0x07064b50;

/**
 * The entries of the archive whose last bytes are `tail` (the whole archive is `size` bytes long).
 * Throws ZipRefused when the directory is malformed, out of `tail`, or beyond the limits.
 */
export function readCentralDirectory(tail: Buffer, size: number, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipEntry[] {
  // The end record is at least 22 bytes, followed by a comment of at most 65,535 bytes.
  let eocd = -1;
  for (let i = tail.length - 22; i >= Math.max(0, tail.length - 22 - 65535); i--) {
    if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) === tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipRefused('malformed', 'The archive has no readable table of contents.');
  if (eocd >= 20 && tail.readUInt32LE(eocd - 20) === ZIP64_LOCATOR) throw new ZipRefused('zip64', 'ZIP64 archives are not accepted.');
  const count = tail.readUInt16LE(eocd + 10);
  const dirSize = tail.readUInt32LE(eocd + 12);
  const dirOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
    throw new ZipRefused('zip64', 'ZIP64 archives are not accepted.');
  }
  if (tail.readUInt16LE(eocd + 4) !== 0 || tail.readUInt16LE(eocd + 8) !== count) {
    throw new ZipRefused('malformed', 'Archives split over several files are not accepted.');
  }
  if (count > limits.maxEntries) throw new ZipRefused('entries', `The archive has ${count} entries (at most ${limits.maxEntries}).`);
  const tailStart = size - tail.length;
  const start = dirOffset - tailStart;
  if (dirOffset + dirSize > size - (tail.length - eocd))
    throw new ZipRefused('malformed', 'The table of contents points outside the archive.');
  if (start < 0) throw new ZipRefused('entries', 'The table of contents of the archive is too large.');

  const entries: ZipEntry[] = [];
  let total = 0;
  let at = start;
  for (let n = 0; n < count; n++) {
    if (at + 46 > eocd || tail.readUInt32LE(at) !== CENTRAL) throw new ZipRefused('malformed', 'The table of contents is damaged.');
    const method = tail.readUInt16LE(at + 10);
    const compressedSize = tail.readUInt32LE(at + 20);
    const uncompressedSize = tail.readUInt32LE(at + 24);
    const nameLength = tail.readUInt16LE(at + 28);
    const extraLength = tail.readUInt16LE(at + 30);
    const commentLength = tail.readUInt16LE(at + 32);
    if (compressedSize === 0xffffffff || uncompressedSize === 0xffffffff) throw new ZipRefused('zip64', 'ZIP64 archives are not accepted.');
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > eocd) throw new ZipRefused('malformed', 'The table of contents is damaged.');
    const name = tail.toString('utf8', at + 46, at + 46 + nameLength);
    // Documents never hold absolute paths or parent references: a sign of an archive made to harm.
    if (name.startsWith('/') || name.includes('\\') || name.split('/').includes('..') || name.includes('\0')) {
      throw new ZipRefused('name', 'The archive holds an entry with a dangerous path.');
    }
    total += uncompressedSize;
    if (total > limits.maxTotalUncompressed) {
      throw new ZipRefused('size', 'The archive would expand to more data than allowed (possible archive bomb).');
    }
    entries.push({ name, method, compressedSize, uncompressedSize });
    at = end;
  }
  // Small archives are exempt from the ratio: a tiny document of repetitive XML compresses well.
  if (total > 10 * 1024 * 1024 && total / Math.max(size, 1) > limits.maxRatio) {
    throw new ZipRefused('ratio', 'The archive expands far more than any real document (possible archive bomb).');
  }
  return entries;
}

/** The content of the first entry when it is stored uncompressed and fits in `head` (ODF's "mimetype"). */
export function firstStoredEntry(head: Buffer): { name: string; content: string } | undefined {
  if (head.length < 30 || head.readUInt32LE(0) !== 0x04034b50) return undefined;
  const method = head.readUInt16LE(8);
  const size = head.readUInt32LE(18);
  const nameLength = head.readUInt16LE(26);
  const extraLength = head.readUInt16LE(28);
  const dataStart = 30 + nameLength + extraLength;
  if (method !== 0 || size > 200 || dataStart + size > head.length) return undefined;
  return { name: head.toString('utf8', 30, 30 + nameLength), content: head.toString('latin1', dataStart, dataStart + size) };
}
