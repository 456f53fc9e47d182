/**
 * Evidence file storage: content-addressed files under DATA_DIR/files (name = SHA-256), written
 * and flushed to disk before any workflow hears of them, so an accepted submission never points
 * at a missing file. In production the directory is a volume shared by every API process.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface StoredFile {
  sha256: string;
  size: number;
}

export interface FileStore {
  readonly uploadDir: string;
  /** Moves an uploaded temporary file into the store; returns its digest and size. */
  adopt(tempPath: string): Promise<StoredFile>;
  /**
   * Opens a stored file for reading: undefined when it is not there; throws when it is there but
   * cannot be read (not a regular file, no permission), before a byte is sent.
   */
  open(sha256: string): Promise<Readable | undefined>;
}

export async function createFileStore(root: string): Promise<FileStore> {
  const uploadDir = path.join(root, 'incoming');
  await mkdir(uploadDir, { recursive: true });
  const location = (sha256: string) => path.join(root, sha256.slice(0, 2), sha256);

  return {
    uploadDir,
    async adopt(tempPath) {
      const hash = createHash('sha256');
      await pipeline(createReadStream(tempPath), hash);
      const sha256 = hash.digest('hex');
      const handle = await open(tempPath, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const { size } = await stat(tempPath);
      const target = location(sha256);
      await mkdir(path.dirname(target), { recursive: true });
      if (await fileExists(target)) await unlink(tempPath);
      else await rename(tempPath, target);
      return { sha256, size };
    },
    async open(sha256) {
      let handle;
      try {
        handle = await open(location(sha256), 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      try {
        if (!(await handle.stat()).isFile()) throw new Error(`stored file ${sha256} is not a regular file`);
      } catch (error) {
        await handle.close();
        throw error;
      }
      return handle.createReadStream();
    },
  };
}

async function fileExists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
