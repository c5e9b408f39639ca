// PGLITE_SHARED_BUFFERS: checked at start with a sentence naming the variable, and handed to the
// embedded database (its memory cache; PGlite's own default of 128 MB made the process much larger).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_PGLITE_SHARED_BUFFERS_MB, loadConfig } from '../../server/config.ts';
import { type DatabaseHandle, openDatabase } from '../../server/db/database.ts';
import { seedDataDir } from '../helpers/pglite-template.ts';

describe('PGLITE_SHARED_BUFFERS', () => {
  let handle: DatabaseHandle | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('defaults to a small cache and accepts 24 or 24MB', () => {
    expect(loadConfig({}).pgliteSharedBuffersMb).toBe(DEFAULT_PGLITE_SHARED_BUFFERS_MB);
    expect(loadConfig({ PGLITE_SHARED_BUFFERS: '24' }).pgliteSharedBuffersMb).toBe(24);
    expect(loadConfig({ PGLITE_SHARED_BUFFERS: '24MB' }).pgliteSharedBuffersMb).toBe(24);
  });

  it.each(['0', '2048', '16GB', 'beaucoup', '-8'])('rejects %s naming the variable', (value) => {
    let error: unknown;
    try {
      loadConfig({ PGLITE_SHARED_BUFFERS: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('PGLITE_SHARED_BUFFERS');
    expect((error as Error).message).toMatch(/^PGLITE_SHARED_BUFFERS must be a size in megabytes from 1 to 1024/);
  });

  it('is the shared_buffers of the embedded database', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'amap-pglite-settings-'));
    await seedDataDir(dir);
    handle = await openDatabase({ databaseUrl: undefined, dataDir: dir, pgliteSharedBuffersMb: 8 });
    const shown = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(handle.db);
    expect(shown.rows[0]?.shared_buffers).toBe('8MB');
    // PGlite's own start parameters are kept.
    const path_ = await sql<{ search_path: string }>`show search_path`.execute(handle.db);
    expect(path_.rows[0]?.search_path).toBe('public');
  });
});
