import fs from 'node:fs';
import path from 'node:path';

/** Bytes of the regular files in the data directory and one level below (database, WAL, shm). */
export async function dataDirBytes(dir: string): Promise<number> {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  await Promise.all(
    entries.map(async (e) => {
      const full = path.join(dir, e.name);
      try {
        if (e.isFile()) total += (await fs.promises.stat(full)).size;
        else if (e.isDirectory()) {
          for (const child of await fs.promises.readdir(full, { withFileTypes: true })) {
            if (child.isFile()) total += (await fs.promises.stat(path.join(full, child.name))).size;
          }
        }
      } catch {
        // a file removed between readdir and stat (WAL checkpoint) is simply not counted
      }
    }),
  );
  return total;
}

/**
 * Whether the data directory takes writes, checked by creating and removing a probe file (cached for
 * `cacheMs`, so /readyz polling costs one tiny write per second at most). Catches what a write error on
 * the next export would only reveal later: a read-only or full file system, lost permissions, or a data
 * directory deleted under the running daemon (SQLite would keep writing to the unlinked file).
 */
export class WritableProbe {
  private checkedAt = -Infinity;
  private problem = '';

  constructor(
    private readonly dir: string,
    private readonly cacheMs = 1000,
  ) {}

  /** Empty when writable, otherwise why not. */
  check(now = performance.now()): string {
    if (now - this.checkedAt < this.cacheMs) return this.problem;
    this.checkedAt = now;
    const probe = path.join(this.dir, '.spanlens-write-probe');
    try {
      fs.writeFileSync(probe, String(process.pid));
      fs.unlinkSync(probe);
      this.problem = '';
    } catch (err) {
      this.problem = `data directory ${this.dir} is not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
    return this.problem;
  }
}
