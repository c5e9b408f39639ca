// The embedded database belongs to one process at a time: two PGlite instances writing the same
// files would corrupt them. A lock file beside the data records who holds it; a lock left by a
// process that no longer exists is taken over.
import fs from 'node:fs';
import path from 'node:path';
import { StartupError } from '../core/errors.ts';

// Data folders this process holds. A lock file naming our own pid but absent from here was left by
// an earlier run that happened to have the same pid: in a container the program is always pid 1
// (or the same small number), so after a crash its lock would otherwise block every restart.
const heldHere = new Set<string>();

export interface DataDirLock {
  release(): void;
}

export interface LockInfo {
  pid: number;
  owner: string;
  since: string;
}

export function lockPath(dataDir: string): string {
  return path.join(dataDir, 'pglite.lock');
}

export function readLock(dataDir: string): LockInfo | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(lockPath(dataDir), 'utf8')) as LockInfo;
    if (info.pid === process.pid) return heldHere.has(path.resolve(dataDir)) ? info : undefined;
    return isAlive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireDataDirLock(dataDir: string, owner: string): DataDirLock {
  const file = lockPath(dataDir);
  const key = path.resolve(dataDir);
  const info: LockInfo = { pid: process.pid, owner, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(info), { flag: 'wx' });
      heldHere.add(key);
      return {
        release: () => {
          heldHere.delete(key);
          try {
            const current = JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
            if (current.pid === process.pid) fs.unlinkSync(file);
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLock(dataDir);
      if (holder) {
        throw new StartupError(
          `The embedded database in ${dataDir} is in use by another process (${holder.owner}, pid ${holder.pid}, since ${holder.since}): stop it first, or use PostgreSQL (DATABASE_URL) to run several processes.`,
        );
      }
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new StartupError(`Could not take the lock file ${file}.`);
}
