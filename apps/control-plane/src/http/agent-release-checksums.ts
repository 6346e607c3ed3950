// SHA-256 of agent release tarballs, computed once per file version and kept in memory: a
// tarball is tens of MB and every install asks for its checksum (and the download's ETag is it).
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

export interface ReleaseChecksums {
  /** hex SHA-256 of the open file `file`, whose fstat is `stats`; hashed once per version of it */
  of(file: string, handle: FileHandle, stats: Stats): Promise<string>;
}

async function hashOf(handle: FileHandle): Promise<string> {
  const hash = createHash('sha256');
  // From the start, through this handle: the bytes hashed are the bytes the download sends, even
  // when pack-agent renames a new tarball into place meanwhile.
  for await (const chunk of handle.createReadStream({ start: 0, autoClose: false })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function createReleaseChecksums(): ReleaseChecksums {
  // One entry per path: a new version of the file (new inode, size or mtime) replaces the old.
  const cache = new Map<string, { version: string; sum: Promise<string> }>();
  return {
    of(file, handle, stats) {
      const version = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
      const hit = cache.get(file);
      if (hit?.version === version) return hit.sum;
      const sum = hashOf(handle);
      cache.set(file, { version, sum });
      // A failed read is not remembered: the next request tries again.
      sum.catch(() => {
        if (cache.get(file)?.sum === sum) cache.delete(file);
      });
      return sum;
    },
  };
}
