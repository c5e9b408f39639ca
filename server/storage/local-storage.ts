// Files on the local disk under DATA_DIR/files, named by the SHA-256 of their content in sharded
// folders (ab/cd/abcd…), so no folder grows huge and a user's file name never becomes a path.
// A file is written to a temporary name, flushed to disk (fsync) and only then renamed into place:
// a crash, a refused check, a size overrun or a client hanging up leaves no half-written file
// under its final name, and the temporary one is removed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../core/errors.ts';
import { type ContentSample, type FileStorage, HEAD_BYTES, isContentHash, type PutOptions, type PutResult, TAIL_BYTES } from './storage.ts';

const TMP = '.tmp';
/** Temporary files older than this are leftovers of a crash: removed when the storage opens. */
const STALE_TMP_MS = 60 * 60 * 1000;

export class LocalFileStorage implements FileStorage {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
    fs.mkdirSync(path.join(root, TMP), { recursive: true });
    this.#removeStaleTemporaries();
  }

  pathOf(hash: string): string {
    if (!isContentHash(hash)) throw new AppError('not_found', 'No such file.');
    return path.join(this.root, hash.slice(0, 2), hash.slice(2, 4), hash);
  }

  async put<T = unknown>(content: Readable, options: PutOptions<T>): Promise<PutResult<T>> {
    const tmp = path.join(this.root, TMP, `${crypto.randomUUID()}.part`);
    const handle = await fs.promises.open(tmp, 'wx', 0o640);
    let closed = false;
    try {
      const digest = crypto.createHash('sha256');
      const decoder = new TextDecoder('utf-8', { fatal: true });
      const headParts: Buffer[] = [];
      let headSize = 0;
      let tailParts: Buffer[] = [];
      let tailSize = 0;
      let size = 0;
      let utf8 = true;
      let hasNul = false;
      for await (const piece of content) {
        const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
        size += chunk.length;
        if (size > options.maxBytes) {
          content.destroy();
          throw new AppError('payload_too_large', `The file is larger than the limit of ${formatBytes(options.maxBytes)}.`, {
            reason: 'storage.error.tooLarge',
            maxBytes: options.maxBytes,
          });
        }
        digest.update(chunk);
        if (headSize < HEAD_BYTES) {
          headParts.push(chunk.subarray(0, HEAD_BYTES - headSize));
          headSize += Math.min(chunk.length, HEAD_BYTES - headSize);
        }
        tailParts.push(chunk);
        tailSize += chunk.length;
        while (tailParts.length > 1 && tailSize - tailParts[0]!.length >= TAIL_BYTES) tailSize -= tailParts.shift()!.length;
        if (!hasNul && chunk.includes(0)) hasNul = true;
        if (utf8) {
          try {
            decoder.decode(chunk, { stream: true });
          } catch {
            utf8 = false;
          }
        }
        await handle.write(chunk);
      }
      if (utf8) {
        try {
          decoder.decode();
        } catch {
          utf8 = false;
        }
      }
      const tailAll = Buffer.concat(tailParts);
      tailParts = [];
      const sample: ContentSample = {
        head: Buffer.concat(headParts),
        tail: tailAll.subarray(Math.max(0, tailAll.length - TAIL_BYTES)),
        size,
        utf8,
        hasNul,
      };
      const checked = options.check ? options.check(sample) : (undefined as T);
      await handle.sync();
      await handle.close();
      closed = true;
      const hash = digest.digest('hex');
      const target = this.pathOf(hash);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      let created = true;
      if (await this.exists(hash)) {
        // Same content already stored: keep the existing copy (and mark it as recently used).
        created = false;
        await fs.promises.rm(tmp, { force: true });
        const now = new Date();
        await fs.promises.utimes(target, now, now).catch(() => {});
      } else {
        await fs.promises.rename(tmp, target);
        await syncDir(path.dirname(target));
      }
      return { hash, size, checked, created };
    } catch (error) {
      if (!closed) await handle.close().catch(() => {});
      await fs.promises.rm(tmp, { force: true });
      throw error;
    }
  }

  async get(hash: string): Promise<Readable> {
    const file = this.pathOf(hash);
    try {
      const handle = await fs.promises.open(file, 'r');
      return handle.createReadStream();
    } catch {
      throw new AppError('not_found', 'This file is missing from the storage.');
    }
  }

  async exists(hash: string): Promise<boolean> {
    try {
      await fs.promises.access(this.pathOf(hash));
      return true;
    } catch {
      return false;
    }
  }

  async delete(hash: string): Promise<void> {
    await fs.promises.rm(this.pathOf(hash), { force: true });
  }

  async *list(): AsyncIterable<{ hash: string; modifiedAt: Date }> {
    for (const first of await readDir(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(first)) continue;
      for (const second of await readDir(path.join(this.root, first))) {
        const dir = path.join(this.root, first, second);
        for (const name of await readDir(dir)) {
          if (!isContentHash(name)) continue;
          try {
            yield { hash: name, modifiedAt: (await fs.promises.stat(path.join(dir, name))).mtime };
          } catch {
            // removed meanwhile
          }
        }
      }
    }
  }

  /** Number of temporary files present (tests check that a refused upload left none). */
  temporaryCount(): number {
    return fs.readdirSync(path.join(this.root, TMP)).length;
  }

  #removeStaleTemporaries(): void {
    const dir = path.join(this.root, TMP);
    const now = Date.now();
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      try {
        if (now - fs.statSync(file).mtimeMs > STALE_TMP_MS) fs.rmSync(file, { force: true });
      } catch {
        // removed meanwhile by another process
      }
    }
  }
}

async function readDir(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch {
    return [];
  }
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename itself durable; some file systems refuse to open a folder: then nothing to do.
  try {
    const handle = await fs.promises.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // not supported here
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}
