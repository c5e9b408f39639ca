// One interface for stored files, addressed by the SHA-256 of their content, so that the same
// document uploaded twice is kept once, and so that an S3-compatible store can replace the local
// disk later without touching the capabilities that use it.
import type { Readable } from 'node:stream';

/** What a check sees of a file while it streams in: enough to recognise its real type. */
export interface ContentSample {
  /** The first bytes (up to HEAD_BYTES). */
  head: Buffer;
  /** The last bytes (up to TAIL_BYTES): a zip archive keeps its table of contents at its end. */
  tail: Buffer;
  size: number;
  /** True when the whole content is valid UTF-8 (checked while streaming). */
  utf8: boolean;
  /** True when the content has a NUL byte anywhere. */
  hasNul: boolean;
}

export const HEAD_BYTES = 64 * 1024;
export const TAIL_BYTES = 1024 * 1024;

export interface PutOptions<T = unknown> {
  /** Larger content is refused while it streams (payload_too_large), and nothing is kept. */
  maxBytes: number;
  /**
   * Runs once the whole content has arrived and before it becomes visible; if it throws, nothing is
   * kept and the error is passed on. Returns whatever the caller wants to learn from the sample.
   */
  check?: (sample: ContentSample) => T;
}

export interface PutResult<T = unknown> {
  hash: string;
  size: number;
  /** What `check` returned. */
  checked: T;
  /** False when the same content was already stored (deduplicated). */
  created: boolean;
}

export interface FileStorage {
  put<T = unknown>(content: Readable, options: PutOptions<T>): Promise<PutResult<T>>;
  /** The content; rejects with not_found when it is missing. */
  get(hash: string): Promise<Readable>;
  exists(hash: string): Promise<boolean>;
  /** Removes the content if present. Callers make sure nothing refers to it any more. */
  delete(hash: string): Promise<void>;
  /** Every stored content with its last write (or last deduplicated put), for clean-ups. */
  list(): AsyncIterable<{ hash: string; modifiedAt: Date }>;
}

export function isContentHash(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}
